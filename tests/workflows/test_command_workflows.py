"""manage.py workflows stuck: lists running steps whose lease expired; --recover retries or fails them
under a lock that keeps replicas apart."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from innominatus.locks import command_lock
from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.loader import load_workflow
from workflows.management.commands.workflows import RECOVER_LOCK
from workflows.models import StepExecution, StepLog, WorkflowExecution
from workflows.steps.registry import known_step_types

# Q_SYNC=true (pyproject): a recovered step that is retried runs inline once dispatched.
pytestmark = pytest.mark.django_db(transaction=True)


def _ghost(app: str, *, max_attempts: int) -> StepExecution:
    """A running execution whose only step was running on a worker that vanished 5 minutes ago."""
    definition = load_workflow(
        "metadata: {name: ghost}\nsteps:\n  - {name: work, type: noop}\n", known_step_types=known_step_types()
    )
    execution = WorkflowExecution.objects.create(
        app_name=app, workflow_name="ghost", definition=definition.to_dict()
    )
    execution.start()
    past = timezone.now() - timedelta(minutes=5)
    return StepExecution.objects.create(
        execution=execution,
        name="work",
        step_type="noop",
        position=0,
        status=StepStatus.RUNNING,
        attempt=1,
        max_attempts=max_attempts,
        lease_owner=f"dead-{app}:1:1",
        lease_expires_at=past,
        started_at=past,
    )


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("workflows", *args, stdout=out)
    return out.getvalue()


def test_stuck_lists_expired_leases_without_changing_them() -> None:
    assert "No stuck workflows" in _run("stuck")
    ghost = _ghost("shop", max_attempts=1)
    output = _run("stuck")
    assert ghost.execution_id in output and "shop" in output and "dead-shop:1:1" in output
    assert "1 stuck step(s)" in output and "--recover" in output
    ghost.refresh_from_db()
    assert ghost.status == StepStatus.RUNNING


def test_recover_retries_when_attempts_remain_and_fails_otherwise() -> None:
    retried = _ghost("shop", max_attempts=2)
    failed = _ghost("cart", max_attempts=1)
    output = _run("stuck", "--recover")
    assert retried.execution_id in output and failed.execution_id in output
    assert "Recovered: 1 retried, 1 failed, 0 cancelled." in output
    retried.refresh_from_db()
    failed.refresh_from_db()
    # The retried step ran again (inline, Q_SYNC) and its execution finished.
    assert retried.status == StepStatus.COMPLETED and retried.attempt == 2
    assert WorkflowExecution.objects.get(pk=retried.execution_id).status == ExecutionStatus.COMPLETED
    assert StepLog.objects.filter(step=retried, message__contains="retrying (attempt 2 of 2)").exists()
    # The other one failed, saying why.
    assert failed.status == StepStatus.FAILED
    assert "dead-cart:1:1 stopped heartbeating" in failed.error_message
    assert "no retries left" in failed.error_message
    assert WorkflowExecution.objects.get(pk=failed.execution_id).status == ExecutionStatus.FAILED
    assert "No stuck workflows" in _run("stuck", "--recover")


def test_recover_refuses_while_another_replica_holds_the_lock() -> None:
    ghost = _ghost("shop", max_attempts=1)
    with command_lock(RECOVER_LOCK):
        with pytest.raises(CommandError, match="lock held"):
            _run("stuck", "--recover")
        # Listing only reads, so it needs no lock.
        assert ghost.execution_id in _run("stuck")
    ghost.refresh_from_db()
    assert ghost.status == StepStatus.RUNNING
    assert "1 failed" in _run("stuck", "--recover")


def test_stuck_lists_ready_steps_that_no_worker_takes(settings: object) -> None:
    from django_q.models import OrmQ

    out = io.StringIO()
    call_command("workflows", "stuck", stdout=out)
    assert "No work waiting for a worker" in out.getvalue()

    step = _ghost("waiting", max_attempts=1)
    long_ago = timezone.now() - timedelta(minutes=3)
    StepExecution.objects.filter(pk=step.pk).update(
        status=StepStatus.PENDING, lease_owner="", lease_expires_at=None, dispatched_at=long_ago
    )
    OrmQ.objects.create(key="innominatus", payload="run", lock=long_ago)
    out = io.StringIO()
    call_command("workflows", "stuck", stdout=out)
    text = out.getvalue()
    assert re.search(r"Waiting for a worker: 1 queued task\(s\), the oldest for 18\d s", text)
    line = next(row for row in text.splitlines() if row.startswith(step.execution_id))
    assert "waiting" in line and "work" in line and re.search(r" 18\ds$", line.rstrip())
