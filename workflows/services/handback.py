"""Handing a stopping worker's running steps back to the queue, without using up an attempt."""

from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from workflows import shutdown
from workflows.choices import STEP_TRANSITIONS, StepStatus, check_transition
from workflows.models import StepExecution
from workflows.services import scheduler
from workflows.services.steplog import StepLogWriter


def hand_back_steps(*, owner_prefix: str, reason: str, stop_processes: Callable[[], None]) -> list[int]:
    """Stop the running steps whose lease owner starts with `owner_prefix` and make them pending again,
    queued, without using an attempt; returns their ids.

    The step rows are locked first, so the runner cannot record the killed attempt as failed meanwhile;
    `stop_processes` runs before the rows change, so no later attempt overlaps this one.
    """
    check_transition(STEP_TRANSITIONS, "step", StepStatus.RUNNING, StepStatus.PENDING)
    handed: list[int] = []
    with transaction.atomic():
        steps = list(
            StepExecution.objects.select_for_update().filter(
                status=StepStatus.RUNNING, lease_owner__startswith=owner_prefix
            )
        )
        shutdown.begin_hand_back()
        stop_processes()
        now = timezone.now()
        for step in steps:
            moved = StepExecution.objects.filter(
                pk=step.pk, status=StepStatus.RUNNING, lease_owner=step.lease_owner
            ).update(
                status=StepStatus.PENDING,
                lease_owner="",
                lease_expires_at=None,
                attempt=Greatest(F("attempt") - 1, 0),
                next_attempt_at=now,
                dispatched_at=now,
                error_message=f"handed back by a stopping worker: {reason}",
            )
            if moved:
                writer = StepLogWriter(execution_id=step.execution_id, step_id=step.pk)
                writer.system(
                    f"worker {step.lease_owner} is shutting down ({reason}): attempt {step.attempt} "
                    "stopped and handed back to the queue; it does not count as an attempt",
                    level="warning",
                )
                writer.flush()
                handed.append(step.pk)
        scheduler.dispatch(handed)
    return handed
