"""`manage.py worker` under real signals: repeated SIGTERM/SIGINT, process-group signals, drain and hand
back, kill -9 of a worker process or of the master, and the worker's own probes.

django-q2's qcluster deadlocks on a second SIGTERM (upstream #346), starts messages it prefetched after
SIGTERM, can freeze when an idle worker process is killed (#23) and leaves its processes running when its
master is killed: each test here fails on that behaviour."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from django_q.models import OrmQ

from tests.e2e.conftest import Processes, free_port, wait_for_group_exit, wait_until
from tests.e2e.test_engine_workers import launch
from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution

pytestmark = pytest.mark.e2e

# Generous on a loaded two-core machine: start-up alone can take several seconds.
START_TIMEOUT = 30


def writable_dir(path: Path) -> Path:
    """A directory the step user may write to (a root worker runs steps as STEP_RUN_AS_USER)."""
    path.mkdir()
    path.chmod(0o777)
    return path


def ledger_workflow(ledger: Path, seconds: float) -> str:
    """Two chained script steps; each writes `start` and, after `seconds`, `end` to its own ledger file."""
    return f"""
metadata: {{name: ledger}}
steps:
  - name: one
    type: script
    script: 'echo start >> {ledger}/$INNOMINATUS_EXECUTION_ID-one; sleep {seconds}; echo end >> {ledger}/$INNOMINATUS_EXECUTION_ID-one'
  - name: two
    type: script
    dependsOn: [one]
    script: 'echo start >> {ledger}/$INNOMINATUS_EXECUTION_ID-two; sleep {seconds}; echo end >> {ledger}/$INNOMINATUS_EXECUTION_ID-two'
"""


def running_steps(ids: list[str]) -> list[StepExecution]:
    return list(StepExecution.objects.filter(execution_id__in=ids, status=StepStatus.RUNNING))


def exit_within(child: subprocess.Popen[bytes], seconds: float) -> float:
    """Wait for the master to exit; returns how long it took (fails after `seconds`)."""
    started = time.monotonic()
    try:
        code = child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the worker did not exit within {seconds} s (deadlocked?)")
    assert code == 0
    assert wait_for_group_exit(child.pid, timeout=5), "a process of the stopped worker survived it"
    return time.monotonic() - started


def all_completed(ids: list[str]) -> bool:
    return WorkflowExecution.objects.filter(pk__in=ids, status=ExecutionStatus.COMPLETED).count() == len(ids)


@pytest.mark.parametrize("how", ["group-twice", "master-then-group-interrupt"])
def test_repeated_signals_drain_running_steps_and_start_none(
    processes: Processes, tmp_path: Path, how: str
) -> None:
    ledger = writable_dir(tmp_path / "ledger")
    worker = processes.worker("a", workers=2, extra_env={"WORKER_DRAIN_SECONDS": "20"})
    ids = [launch(ledger_workflow(ledger, 3)).pk for _ in range(3)]
    wait_until(lambda: len(running_steps(ids)) == 2, timeout=START_TIMEOUT, what="two steps to run")
    draining = {step.pk for step in running_steps(ids)}
    if how == "group-twice":
        os.killpg(worker.pid, signal.SIGTERM)
        os.killpg(worker.pid, signal.SIGTERM)
    else:
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        os.killpg(worker.pid, signal.SIGINT)
        worker.send_signal(signal.SIGTERM)
    took = exit_within(worker, 20 + 5)
    # The running steps finished (3 s), and nothing new started: well inside the drain time.
    assert took < 15, took
    for step in StepExecution.objects.filter(pk__in=draining):
        assert step.status == StepStatus.COMPLETED, (step.name, step.status, step.error_message)
    started = StepExecution.objects.filter(execution_id__in=ids, started_at__isnull=False)
    assert set(started.values_list("pk", flat=True)) == draining, "a step started after SIGTERM"

    processes.worker("b", workers=2)
    wait_until(lambda: all_completed(ids), timeout=60, what="the other worker to finish the workflows")
    for execution_id in ids:
        for name in ("one", "two"):
            assert (ledger / f"{execution_id}-{name}").read_text() == "start\nend\n", (execution_id, name)


def test_a_step_still_running_at_the_drain_deadline_is_handed_back(
    processes: Processes, tmp_path: Path
) -> None:
    ledger = writable_dir(tmp_path / "ledger")
    worker = processes.worker("a", workers=1, extra_env={"WORKER_DRAIN_SECONDS": "2"})
    execution = launch(ledger_workflow(ledger, 30))
    step = wait_until(lambda: running_steps([execution.pk]), timeout=START_TIMEOUT, what="the step")[0]
    wait_until((ledger / f"{execution.pk}-one").exists, timeout=10, what="the script to start")
    worker.send_signal(signal.SIGTERM)
    exit_within(worker, 2 + 5)
    step.refresh_from_db()
    assert step.status == StepStatus.PENDING and step.attempt == 0 and step.lease_owner == ""
    assert "handed back" in step.error_message
    assert step.logs.filter(message__contains="handed back to the queue").exists()
    # The old run message is gone (not held for an hour); a new one is claimable at once.
    assert not OrmQ.objects.filter(lock__gt=timezone.now()).exists()
    assert OrmQ.objects.filter(lock__lte=timezone.now()).exists()
    # The script was killed with its worker: it never reached its side effect.
    time.sleep(1)
    assert (ledger / f"{execution.pk}-one").read_text() == "start\n"

    processes.worker("b", workers=1, extra_env={"WORKER_DRAIN_SECONDS": "2"})
    wait_until(
        lambda: StepExecution.objects.filter(pk=step.pk, status=StepStatus.RUNNING, attempt=1).exists(),
        timeout=START_TIMEOUT,
        what="another worker to resume the handed-back step at once",
    )


def test_messages_queued_behind_a_running_step_are_not_started_after_sigterm(
    processes: Processes, tmp_path: Path
) -> None:
    ledger = writable_dir(tmp_path / "ledger")
    worker = processes.worker("a", workers=1, extra_env={"WORKER_DRAIN_SECONDS": "20"})
    first = launch(ledger_workflow(ledger, 3)).pk
    wait_until(lambda: running_steps([first]), timeout=START_TIMEOUT, what="the first step")
    queued = [launch(ledger_workflow(ledger, 3)).pk for _ in range(2)]
    time.sleep(1)  # django-q2's pusher would have prefetched these by now
    worker.send_signal(signal.SIGTERM)
    exit_within(worker, 20 + 5)
    for execution_id in queued:
        assert not (ledger / f"{execution_id}-one").exists(), "a queued step started after SIGTERM"
        assert StepExecution.objects.get(execution_id=execution_id, name="one").attempt == 0

    processes.worker("b", workers=2)
    wait_until(lambda: all_completed([first, *queued]), timeout=60, what="every workflow to complete")


def worker_pids(master: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def probe(port: int, path: str) -> int:
    try:
        return requests.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code
    except requests.RequestException:
        return 0


def test_killing_idle_worker_processes_never_freezes_the_worker(processes: Processes, tmp_path: Path) -> None:
    port = free_port()
    master = processes.worker("a", workers=2, extra_env={"WORKER_PROBE_PORT": str(port)})
    wait_until(lambda: probe(port, "/readyz") == 200, timeout=START_TIMEOUT, what="the worker to be ready")
    for _ in range(4):
        victims = worker_pids(master)
        assert len(victims) == 2
        os.kill(victims[0], signal.SIGKILL)
        wait_until(
            lambda victim=victims[0]: victim not in worker_pids(master) and len(worker_pids(master)) == 2,
            timeout=15,
            what="the master to replace the killed worker process",
        )
    ledger = writable_dir(tmp_path / "ledger")
    ids = [launch(ledger_workflow(ledger, 0)).pk for _ in range(4)]
    wait_until(lambda: all_completed(ids), timeout=45, what="the worker to keep taking work")
    assert probe(port, "/livez") == 200


def test_killing_the_master_leaves_no_worker_process_behind(processes: Processes, tmp_path: Path) -> None:
    ledger = writable_dir(tmp_path / "ledger")
    master = processes.worker("a", workers=2, extra_env={"WORKER_DRAIN_SECONDS": "2"})
    execution = launch(ledger_workflow(ledger, 30))
    step = wait_until(lambda: running_steps([execution.pk]), timeout=START_TIMEOUT, what="the step")[0]
    wait_until((ledger / f"{execution.pk}-one").exists, timeout=10, what="the script to start")
    orphans = worker_pids(master)
    master.kill()
    master.wait()
    # Each worker process gets SIGTERM when its master dies, drains (2 s), hands its step back and exits.
    assert wait_for_group_exit(master.pid, timeout=2 + 8), "worker processes outlived their master"
    assert not [pid for pid in orphans if Path(f"/proc/{pid}").exists()]
    step.refresh_from_db()
    assert step.status == StepStatus.PENDING and "handed back" in step.error_message


def test_probe_fails_liveness_when_an_idle_worker_process_stops_polling(processes: Processes) -> None:
    port = free_port()
    master = processes.worker(
        "a", workers=1, extra_env={"WORKER_PROBE_PORT": str(port), "WORKER_STALL_SECONDS": "5"}
    )
    wait_until(lambda: probe(port, "/livez") == 200, timeout=START_TIMEOUT, what="the worker to be live")
    (stopped,) = worker_pids(master)
    os.kill(stopped, signal.SIGSTOP)
    try:
        wait_until(lambda: probe(port, "/livez") == 503, timeout=20, what="liveness to fail")
        assert "has not polled the queue" in requests.get(f"http://127.0.0.1:{port}/livez", timeout=2).text
    finally:
        os.kill(stopped, signal.SIGCONT)
    wait_until(lambda: probe(port, "/livez") == 200, timeout=10, what="liveness to recover")
    master.send_signal(signal.SIGTERM)
    exit_within(master, 5 + 5)
    assert probe(port, "/readyz") == 0
