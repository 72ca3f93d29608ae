"""Step leases: who runs a step, and until when, moved only through conditional updates; and fencing:
when an earlier attempt of a step is surely over, so that another may start."""

import fcntl
import os
import socket
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from innominatus.processes import process_alive
from workflows.choices import STEP_TRANSITIONS, ExecutionStatus, StepStatus, check_transition
from workflows.models import StepExecution
from workflows.services import steprows
from workflows.steps.isolation import ENGINE_DIR, RUNS_DIR
from workflows.steps.process import safe_name


def worker_identity() -> str:
    """Who holds a lease: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def owner_process(owner: str) -> tuple[str, int] | None:
    """(host, pid) of a lease owner written by worker_identity; None when it is not one."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    return (host, int(pid)) if host and pid.isdigit() else None


def attempt_is_over(step: StepExecution, now: datetime) -> tuple[bool, str]:
    """Whether the running attempt of `step` can no longer act, and why (or why it may still).

    Over when its worker process is gone from this host and no supervisor of its step processes is
    left, or when its lease expired more than STEP_FENCE_GRACE_SECONDS ago: by then a live worker has
    noticed it could not renew the lease and stopped the step's processes (see monitor.Watch), and a
    dead worker's supervisors have ended theirs.
    """
    grace = timedelta(seconds=settings.STEP_FENCE_GRACE_SECONDS)
    expires = step.lease_expires_at
    if expires is not None and now - expires > grace:
        return True, f"its lease expired more than {settings.STEP_FENCE_GRACE_SECONDS}s ago"
    process = owner_process(step.lease_owner)
    if process is None or process[0] != socket.gethostname():
        return False, "its lease has not expired for long enough"
    if process_alive(process[1]):
        return False, f"its worker process {process[1]} is still running"
    if supervisor_running(settings.STEP_WORK_ROOT / step.execution_id, step.name):
        return False, "its worker died and the step's processes are still being stopped"
    return True, f"its worker process {process[1]} is gone"


def supervisor_running(workdir: Path, step_name: str) -> bool:
    """Whether a supervisor of the step's processes still holds its lock (workflows/steps/supervisor.py)."""
    path = workdir / ENGINE_DIR / RUNS_DIR / safe_name(step_name) / "supervisor.lock"
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)
    return False


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
