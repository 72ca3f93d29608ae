"""Fencing in the reaper: a retry waits until the earlier attempt is surely over, and a step whose worker
died after its process finished is recorded from the result that process left."""

import fcntl
import json
import os
import socket
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.loader import load_workflow
from workflows.models import StepExecution, StepLog, WorkflowExecution
from workflows.services import executions, reaper
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.django_db(transaction=True)

WORKFLOW = """
metadata: {name: fenced}
steps:
  - name: work
    type: script
    retries: {limit: 1, backoff: 0}
    script: echo "again=yes" >> "$INNOMINATUS_OUTPUT"
"""


def ghost(owner: str, *, expired_ago: float, max_attempts: int = 2) -> StepExecution:
    """A running step whose worker stopped renewing its lease `expired_ago` seconds ago."""
    definition = load_workflow(WORKFLOW, known_step_types=known_step_types())
    template = executions.launch_execution(definition=definition, app_name="demo", parameters={})
    execution = WorkflowExecution.objects.create(
        app_name="demo",
        workflow_name="fenced",
        definition=WorkflowExecution.objects.get(pk=template.pk).definition,
    )
    execution.start()
    now = timezone.now()
    return StepExecution.objects.create(
        execution=execution,
        name="work",
        step_type="script",
        position=0,
        status=StepStatus.RUNNING,
        attempt=1,
        max_attempts=max_attempts,
        lease_owner=owner,
        lease_expires_at=now - timedelta(seconds=expired_ago),
        started_at=now - timedelta(seconds=60),
    )


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def here(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:1"


def test_a_retry_waits_while_the_worker_process_of_the_old_attempt_still_runs() -> None:
    worker = subprocess.Popen(["sleep", "30"])
    try:
        step = ghost(here(worker.pid), expired_ago=2)
        report = reaper.reap()
        step.refresh_from_db()
        assert f"{step.execution_id}/work" in report.waiting
        assert step.status == StepStatus.RUNNING and step.attempt == 1
    finally:
        worker.kill()
        worker.wait()
    report = reaper.reap()
    step.refresh_from_db()
    assert f"{step.execution_id}/work" in report.retried
    assert step.status == StepStatus.COMPLETED and step.attempt == 2


def test_a_dead_local_worker_is_recovered_before_its_lease_expires() -> None:
    step = ghost(here(dead_pid()), expired_ago=-20)
    report = reaper.reap()
    step.refresh_from_db()
    assert f"{step.execution_id}/work" in report.retried
    assert step.attempt == 2
    assert StepLog.objects.filter(step=step, message__contains="is gone").exists()


def test_another_hosts_attempt_counts_as_over_only_after_the_fencing_grace(settings: Any) -> None:
    settings.STEP_FENCE_GRACE_SECONDS = 15
    recent = ghost("other-host:4242:1", expired_ago=3)
    old = ghost("other-host:4243:1", expired_ago=16)
    report = reaper.reap()
    recent.refresh_from_db()
    old.refresh_from_db()
    assert f"{recent.execution_id}/work" in report.waiting and recent.status == StepStatus.RUNNING
    assert f"{old.execution_id}/work" in report.retried and old.attempt == 2


def test_a_retry_waits_for_the_supervisor_still_stopping_the_old_attempts_processes() -> None:
    step = ghost(here(dead_pid()), expired_ago=1)
    runs = Path(settings.STEP_WORK_ROOT) / step.execution_id / ".innominatus" / "runs" / "work"
    runs.mkdir(parents=True)
    lock = os.open(runs / "supervisor.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        report = reaper.reap()
        step.refresh_from_db()
        assert f"{step.execution_id}/work" in report.waiting
    finally:
        os.close(lock)
    report = reaper.reap()
    assert f"{step.execution_id}/work" in report.retried


def write_evidence(step: StepExecution, exit_code: int, outputs: str) -> None:
    engine = Path(settings.STEP_WORK_ROOT) / step.execution_id / ".innominatus"
    (engine / "runs" / "work").mkdir(parents=True)
    (engine / "runs" / "work" / "attempt-1.json").write_text(json.dumps({"exit": exit_code}))
    (engine / "work").mkdir()
    (engine / "work" / "outputs").write_text(outputs)


def test_a_step_whose_worker_died_after_its_process_finished_is_recorded_from_its_result_file() -> None:
    step = ghost(here(dead_pid()), expired_ago=1, max_attempts=1)
    write_evidence(step, 0, "answer=42\n")
    report = reaper.reap()
    step.refresh_from_db()
    execution = WorkflowExecution.objects.get(pk=step.execution_id)
    assert f"{step.execution_id}/work" in report.recorded
    assert step.status == StepStatus.COMPLETED, step.error_message
    assert step.attempt == 1
    assert step.outputs == {"answer": "42"}
    assert execution.status == ExecutionStatus.COMPLETED
    assert StepLog.objects.filter(step=step, message__contains="recorded from its result file").exists()


def test_a_failed_exit_left_as_evidence_is_recorded_as_that_failure() -> None:
    step = ghost(here(dead_pid()), expired_ago=1, max_attempts=1)
    write_evidence(step, 7, "")
    reaper.reap()
    step.refresh_from_db()
    assert step.status == StepStatus.FAILED
    assert "exited with code 7" in step.error_message
