"""Running one step: claim it under a lease, run its type, record the result, dispatch successors."""

import logging
import os
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from innominatus.logcontext import bind
from workflows import signals
from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.model import StepDefinition, WorkflowDefinition
from workflows.engine.outputs import apply_step_outputs
from workflows.engine.templating import render_value
from workflows.models import StepExecution, WorkflowExecution
from workflows.services import scheduler
from workflows.services.context import context_steps, execution_context
from workflows.services.monitor import StepMonitor
from workflows.services.resources import ExecutionResourceOps
from workflows.services.secrets import execution_secrets
from workflows.services.steplog import StepLogWriter
from workflows.steps.base import StepContext, StepStopped
from workflows.steps.registry import get_step

logger = logging.getLogger(__name__)

# Retries due sooner than this run again in the same worker instead of waiting for the reaper's tick.
INLINE_RETRY_MAX_DELAY = 5.0


def worker_identity() -> str:
    """Who holds a lease: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dataclass
class Outcome:
    """How an attempt ended, before it is recorded."""

    status: str
    outputs: dict[str, Any]
    error: str = ""
    lease_lost: bool = False


def claim(step_id: int, owner: str) -> bool:
    """Atomically move a due pending step to running under `owner`'s lease."""
    now = timezone.now()
    return bool(
        StepExecution.objects.filter(pk=step_id, status=StepStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(execution__status__in=[ExecutionStatus.RUNNING, ExecutionStatus.WAITING])
        .update(
            status=StepStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=settings.STEP_LEASE_SECONDS),
            attempt=F("attempt") + 1,
            started_at=now,
            completed_at=None,
        )
    )


def run_step_chain(step_id: int | None) -> None:
    """Run a step, then keep running the successor handed back, so a chain needs no queue round trip."""
    while step_id is not None:
        step_id = run_step(step_id)


def run_step(step_id: int) -> int | None:
    """Run one attempt of a step; returns a step this worker should run next, if any."""
    owner = worker_identity()
    if not claim(step_id, owner):
        return None
    step = StepExecution.objects.select_related("execution__revision", "execution__application").get(
        pk=step_id
    )
    execution = step.execution
    definition = WorkflowDefinition.from_dict(execution.definition)
    step_def = definition.step(step.name)
    with bind(workflow_id=execution.id, app_name=execution.app_name, step=step.name):
        writer = StepLogWriter(
            execution_id=execution.id,
            step_id=step.pk,
            secrets=execution_secrets(execution),
            # A first attempt has no earlier lines of its own: numbering starts without a query.
            first_seq=1 if step.attempt == 1 else None,
        )
        outcome = _attempt(step, execution, step_def, owner, writer)
        next_ids, retry_delay = _record(step, step_def, owner, outcome, writer)
    if retry_delay is not None and retry_delay <= INLINE_RETRY_MAX_DELAY:
        time.sleep(retry_delay)
        return step_id
    if not next_ids:
        return None
    scheduler.dispatch(next_ids[1:])
    return next_ids[0]


def _attempt(
    step: StepExecution,
    execution: WorkflowExecution,
    step_def: StepDefinition,
    owner: str,
    writer: StepLogWriter,
) -> Outcome:
    """Render the step's configuration and run it while a monitor thread keeps the lease."""
    writer.system(f"attempt {step.attempt} of {step.max_attempts} started on {owner}")
    context = execution_context(execution, context_steps(execution))
    try:
        config = render_value(step_def.config, context)
        env = {key: str(value) for key, value in render_value(step_def.env, context).items()}
    except Exception as exc:
        writer.system(f"configuration could not be rendered: {exc}", level="error")
        writer.flush()
        return Outcome(StepStatus.FAILED, {}, f"configuration could not be rendered: {exc}")
    if config:
        StepExecution.objects.filter(pk=step.pk).update(config=config)
    monitor = StepMonitor(
        step_id=step.pk,
        execution_id=execution.id,
        owner=owner,
        lease_seconds=settings.STEP_LEASE_SECONDS,
        deadline=execution.deadline,
        writer=writer,
    )
    ctx = StepContext(
        execution_id=execution.id,
        app_name=execution.app_name,
        step_name=step.name,
        step_type=step.step_type,
        config=config,
        env=env,
        workdir=settings.STEP_WORK_ROOT / execution.id,
        timeout=step_def.timeout,
        attempt=step.attempt,
        log=writer.write,
        check_stop=monitor.check_stop,
        secrets=writer.secrets,
        app=context["app"],
        resources=context["resources"],
        resource_ops=ExecutionResourceOps(execution),
    )
    monitor.start()
    try:
        result = get_step(step.step_type).run(ctx)
        outcome = Outcome(result.status, dict(result.outputs), result.error)
    except StepStopped as stop:
        outcome = _stopped_outcome(stop.reason)
    except Exception as exc:
        # A fault in our code or infrastructure, not an expected failure: keep the traceback.
        writer.system(traceback.format_exc(), level="error")
        logger.exception("step raised an unexpected error")
        outcome = Outcome(StepStatus.FAILED, {}, f"internal error: {type(exc).__name__}: {exc}")
    finally:
        monitor.halt()
    if outcome.status == StepStatus.FAILED and outcome.error:
        writer.system(f"attempt {step.attempt} failed: {outcome.error}", level="error")
    writer.flush()
    return outcome


def _stopped_outcome(reason: str) -> Outcome:
    if reason == "cancelled":
        return Outcome(StepStatus.CANCELLED, {}, "cancelled while running")
    if reason.startswith("lease lost"):
        return Outcome(StepStatus.FAILED, {}, reason, lease_lost=True)
    return Outcome(StepStatus.FAILED, {}, reason)


def _record(
    step: StepExecution,
    step_def: StepDefinition,
    owner: str,
    outcome: Outcome,
    writer: StepLogWriter,
) -> tuple[list[int], float | None]:
    """Store the attempt's result and advance the execution; returns (steps to run, retry delay)."""
    if outcome.lease_lost:
        return [], None
    retry_delay: float | None = None
    with transaction.atomic():
        execution = (
            WorkflowExecution.objects.select_for_update(of=("self",))
            .select_related("revision", "application")
            .get(pk=step.execution_id)
        )
        mine = StepExecution.objects.filter(pk=step.pk, status=StepStatus.RUNNING, lease_owner=owner)
        now = timezone.now()
        status, outputs, error = outcome.status, outcome.outputs, outcome.error
        if status == StepStatus.COMPLETED:
            try:
                templated = step_def.set_variables or any(t is not None for t in step_def.outputs.values())
                context = execution_context(execution, context_steps(execution)) if templated else {}
                outputs, new_variables = apply_step_outputs(step_def, outputs, context)
            except Exception as exc:
                status, error = StepStatus.FAILED, f"outputs could not be applied: {exc}"
            else:
                if new_variables:
                    execution.variables = {**(execution.variables or {}), **new_variables}
                    WorkflowExecution.objects.filter(pk=execution.pk).update(variables=execution.variables)
        if execution.status == ExecutionStatus.CANCELLED:
            status = StepStatus.CANCELLED
        if status == StepStatus.FAILED and step.attempt < step.max_attempts:
            retry_delay = step_def.retries.delay_for(step.attempt)
            moved = mine.update(
                status=StepStatus.PENDING,
                error_message=error[:10000],
                next_attempt_at=now + timedelta(seconds=retry_delay),
                lease_owner="",
                lease_expires_at=None,
                dispatched_at=now,
            )
            writer.system(f"retrying in {retry_delay:g}s")
        else:
            moved = mine.update(
                status=status,
                outputs=outputs if status == StepStatus.COMPLETED else {},
                error_message=error[:10000],
                completed_at=now,
                lease_owner="",
                lease_expires_at=None,
            )
        writer.flush()
        if not moved:
            return [], None
        next_ids = scheduler.advance(execution.pk, locked=execution) if retry_delay is None else []
    if retry_delay is None:
        duration = (timezone.now() - step.started_at).total_seconds() if step.started_at else None
        signals.step_finished.send(sender=StepExecution, step=step, status=status, duration=duration)
    return next_ids, retry_delay
