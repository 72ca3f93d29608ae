"""Step leases: who runs a step, and until when, moved only through conditional updates."""

import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from workflows.choices import STEP_TRANSITIONS, ExecutionStatus, StepStatus, check_transition
from workflows.models import StepExecution
from workflows.services import steprows


def worker_identity() -> str:
    """Who holds a lease: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _lease_fields(owner: str, now: datetime) -> dict[str, Any]:
    check_transition(STEP_TRANSITIONS, "step", StepStatus.PENDING, StepStatus.RUNNING)
    return {
        "status": StepStatus.RUNNING,
        "lease_owner": owner,
        "lease_expires_at": now + timedelta(seconds=settings.STEP_LEASE_SECONDS),
        "started_at": now,
        "completed_at": None,
    }


def claim(step_id: int, owner: str) -> str | None:
    """Take a due pending step from a queue message: running under `owner`'s lease, if still runnable.
    Returns the id of its execution, or None when it was not taken."""
    now = timezone.now()
    return steprows.claim_queued(
        step_id,
        _lease_fields(owner, now),
        pending=StepStatus.PENDING,
        now=now,
        active=[ExecutionStatus.RUNNING, ExecutionStatus.WAITING],
    )


def ready_claim(step: StepExecution, owner: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """(values, conditions) of the update that takes a step the scheduler just found ready, under the
    execution's row lock (no queue message)."""
    # A pending step's attempt only moves when it is claimed, so the one read is still current.
    values = {**_lease_fields(owner, now), "attempt": step.attempt + 1, "dispatched_at": now}
    return values, {"id": step.pk, "status": StepStatus.PENDING}


def hold(step: StepExecution, values: dict[str, Any]) -> None:
    """Bring a loaded step up to date with values being stored (a claim, a result), so it need not be read
    again."""
    for name, value in values.items():
        setattr(step, name, value)
