"""The engine on real worker processes (`manage.py worker`) and PostgreSQL: parallelism, crashes, exactly-once, control."""

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.e2e.conftest import Processes, wait_until
from workflows.choices import EXECUTION_TERMINAL_STATUSES, ExecutionStatus, StepStatus
from workflows.engine.loader import load_workflow
from workflows.models import StepExecution, WorkflowExecution
from workflows.services import executions
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.e2e


def launch(text: str, parameters: dict[str, Any] | None = None) -> WorkflowExecution:
    definition = load_workflow(text, known_step_types=known_step_types())
    return executions.launch_execution(definition=definition, app_name="e2e", parameters=parameters or {})


def finished(execution: WorkflowExecution) -> WorkflowExecution | None:
    execution.refresh_from_db()
    return execution if execution.status in EXECUTION_TERMINAL_STATUSES else None


def step(execution: WorkflowExecution, name: str) -> StepExecution:
    return StepExecution.objects.get(execution=execution, name=name)


def test_diamond_runs_its_middle_steps_in_parallel(processes: Processes) -> None:
    processes.worker("a", workers=2)
    processes.worker("b", workers=2)
    execution = launch(
        """
metadata: {name: diamond}
steps:
  - {name: top, type: noop}
  - {name: left, type: sleep, duration: 2s, dependsOn: [top]}
  - {name: right, type: sleep, duration: 2s, dependsOn: [top]}
  - {name: bottom, type: noop, dependsOn: [left, right]}
"""
    )
    done = wait_until(lambda: finished(execution), timeout=60, what="the diamond to finish")
    assert done.status == ExecutionStatus.COMPLETED, done.error_message
    left, right, bottom = step(done, "left"), step(done, "right"), step(done, "bottom")
    assert left.started_at < right.completed_at and right.started_at < left.completed_at, "no overlap"
    assert bottom.started_at >= max(left.completed_at, right.completed_at)


def test_killed_worker_step_is_retried_by_the_reaper(processes: Processes, tmp_path: Path) -> None:
    processes.worker("a", workers=1)
    processes.worker("b", workers=1)
    marker = tmp_path / "first-attempt"
    execution = launch(
        f"""
metadata: {{name: crashy}}
steps:
  - name: long
    type: script
    retries: {{limit: 1, backoff: 0}}
    script: |
      if [ -f {marker} ]; then echo second attempt; exit 0; fi
      touch {marker}; echo first attempt; sleep 60
"""
    )
    running = wait_until(
        lambda: StepExecution.objects.filter(
            execution=execution, status=StepStatus.RUNNING, attempt=1
        ).first(),
        timeout=30,
        what="the step to start",
    )
    wait_until(marker.exists, timeout=10, what="the script to start")
    worker_pid = int(running.lease_owner.split(":")[1])
    os.kill(worker_pid, signal.SIGKILL)
    done = wait_until(lambda: finished(execution), timeout=60, what="recovery after the worker was killed")
    long = step(done, "long")
    assert done.status == ExecutionStatus.COMPLETED, done.error_message
    assert long.attempt == 2
    assert (
        "stopped heartbeating"
        in long.logs.values_list("message", flat=True)
        .filter(message__contains="stopped heartbeating")
        .first()
    )


def test_killed_worker_without_retries_fails_with_an_explanation(processes: Processes) -> None:
    processes.worker("a", workers=1)
    processes.worker("b", workers=1)
    execution = launch(
        """
metadata: {name: crashy}
steps:
  - {name: long, type: sleep, duration: 60s}
"""
    )
    running = wait_until(
        lambda: StepExecution.objects.filter(execution=execution, status=StepStatus.RUNNING).first(),
        timeout=30,
        what="the step to start",
    )
    os.kill(int(running.lease_owner.split(":")[1]), signal.SIGKILL)
    done = wait_until(lambda: finished(execution), timeout=60, what="the reaper to fail the step")
    assert done.status == ExecutionStatus.FAILED
    assert "stopped heartbeating" in step(done, "long").error_message


def test_two_workers_and_many_workflows_run_every_side_effect_exactly_once(
    processes: Processes, tmp_path: Path
) -> None:
    processes.worker("a", workers=2)
    processes.worker("b", workers=2)
    ledger = tmp_path / "ledger"
    ledger.mkdir()
    ledger.chmod(0o777)  # the scripts run as the step user (the workers run as root in CI)
    text = f"""
metadata: {{name: side-effects}}
steps:
  - {{name: one, type: script, script: 'echo x >> {ledger}/$INNOMINATUS_EXECUTION_ID-one'}}
  - {{name: two, type: script, script: 'echo x >> {ledger}/$INNOMINATUS_EXECUTION_ID-two'}}
"""
    launched = [launch(text) for _ in range(200)]
    ids = [execution.pk for execution in launched]

    def all_done() -> bool:
        return WorkflowExecution.objects.filter(pk__in=ids, status=ExecutionStatus.COMPLETED).count() == len(
            ids
        )

    wait_until(all_done, timeout=300, interval=0.5, what="200 workflows to complete")
    for execution_id in ids:
        for name in ("one", "two"):
            assert (ledger / f"{execution_id}-{name}").read_text() == "x\n"


def test_timeout_cancel_approval_and_retry_on_real_workers(processes: Processes, tmp_path: Path) -> None:
    processes.worker("a", workers=2)
    user = get_user_model().objects.create_user("operator")
    timed = launch(
        "metadata: {name: t}\nsteps: [{name: slow, type: script, timeout: 2s, script: 'sleep 120'}]"
    )
    cancelled = launch("metadata: {name: c}\nsteps: [{name: slow, type: script, script: 'sleep 120'}]")
    gated = launch(
        "metadata: {name: g}\nsteps: [{name: gate, type: noop, when: manual}, {name: after, type: noop}]"
    )
    flag = tmp_path / "fixed"
    broken = launch(
        f"metadata: {{name: r}}\nsteps: [{{name: a, type: noop, outputs: {{v: '1'}}, config: {{outputs: {{v: '1'}}}}}},"
        f" {{name: b, type: script, script: 'test -f {flag}'}}]"
    )

    done = wait_until(lambda: finished(timed), timeout=30, what="the timeout")
    assert done.status == ExecutionStatus.FAILED and "timed out" in step(done, "slow").error_message

    wait_until(lambda: step(cancelled, "slow").status == StepStatus.RUNNING, timeout=30, what="start")
    executions.cancel_execution(execution=cancelled, user=user)
    wait_until(lambda: step(cancelled, "slow").status == StepStatus.CANCELLED, timeout=15, what="the stop")

    wait_until(
        lambda: finished(gated) or gated.status == ExecutionStatus.WAITING, timeout=30, what="the gate"
    )
    executions.approve_step(execution=gated, user=user, comment="ship it")
    done = wait_until(lambda: finished(gated), timeout=30, what="the approved run")
    assert done.status == ExecutionStatus.COMPLETED

    failed = wait_until(lambda: finished(broken), timeout=30, what="the broken run")
    assert failed.status == ExecutionStatus.FAILED
    flag.write_text("ok")
    retry = executions.retry_execution(execution=failed, user=user)
    done = wait_until(lambda: finished(retry), timeout=30, what="the retry")
    assert done.status == ExecutionStatus.COMPLETED
    assert step(done, "a").outputs == {"v": "1"} and step(done, "a").skip_reason.startswith("reused")
