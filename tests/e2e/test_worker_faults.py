"""Worker faults on real worker processes: kill -9 mid-step, a worker dead after the step's process
finished, a database that goes away while a step finishes, and a step trying to read the worker's secrets.
"""

import contextlib
import os
import re
import signal
import socket
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Processes, wait_until
from tests.e2e.test_engine_workers import finished, launch, step
from tests.workflows.steps.helpers import pid_alive
from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution

pytestmark = pytest.mark.e2e


def running_step(execution: WorkflowExecution, attempt: int = 1) -> StepExecution:
    return wait_until(
        lambda: (
            StepExecution.objects.filter(execution=execution, status=StepStatus.RUNNING, attempt=attempt)
            .exclude(lease_owner="")
            .first()
        ),
        timeout=30,
        what=f"attempt {attempt} to start",
    )


def worker_pid(row: StepExecution) -> int:
    return int(row.lease_owner.split(":")[1])


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_kill_9_of_the_worker_mid_step_ends_its_process_and_the_side_effect_runs_once(
    processes: Processes, tmp_path: Path
) -> None:
    processes.worker("a", workers=1)
    processes.worker("b", workers=1)
    shells, effect = tmp_path / "shells", tmp_path / "effect"
    execution = launch(
        f"""
metadata: {{name: effect-once}}
steps:
  - name: effect
    type: script
    retries: {{limit: 1, backoff: 0}}
    script: |
      echo $$ >> {shells}
      sleep 3
      echo ran >> {effect}
"""
    )
    row = running_step(execution)
    wait_until(lambda: lines(shells), timeout=10, what="the script to start")
    os.kill(worker_pid(row), signal.SIGKILL)
    first_shell = int(lines(shells)[0])
    wait_until(lambda: not pid_alive(first_shell), timeout=10, what="the killed worker's script to end")
    done = wait_until(lambda: finished(execution), timeout=45, what="the retry to finish")
    assert done.status == ExecutionStatus.COMPLETED, done.error_message
    assert step(done, "effect").attempt == 2
    time.sleep(1)
    assert lines(effect) == ["ran"]


def test_a_worker_killed_after_its_steps_process_finished_is_recorded_completed_from_the_evidence(
    processes: Processes, tmp_path: Path
) -> None:
    processes.worker("a", workers=1)
    processes.worker("b", workers=1)
    started, go, effect = tmp_path / "started", tmp_path / "go", tmp_path / "effect"
    execution = launch(
        f"""
metadata: {{name: no-retries}}
steps:
  - name: effect
    type: script
    script: |
      touch {started}
      while [ ! -f {go} ]; do sleep 0.05; done
      echo ran >> {effect}
      echo "answer=42" >> "$INNOMINATUS_OUTPUT"
"""
    )
    pid = worker_pid(running_step(execution))
    wait_until(started.exists, timeout=10, what="the script to start")
    # The worker is frozen while its step's process finishes; then it dies before it could record it.
    os.kill(pid, signal.SIGSTOP)
    go.touch()
    result = tmp_path / "work" / execution.id / ".innominatus" / "runs" / "effect" / "attempt-1.json"
    wait_until(result.exists, timeout=10, what="the supervisor's result file")
    os.kill(pid, signal.SIGKILL)
    done = wait_until(lambda: finished(execution), timeout=45, what="the reaper to record the step")
    effect_row = step(done, "effect")
    assert done.status == ExecutionStatus.COMPLETED, done.error_message
    assert effect_row.status == StepStatus.COMPLETED and effect_row.attempt == 1
    assert effect_row.outputs == {"answer": "42"}
    assert lines(effect) == ["ran"]


class TcpProxy:
    """A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused) and
    restored: what a worker sees when the database goes away and comes back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        assert self.listener is not None
        self.listener.close()
        with self.lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)


def test_a_step_that_finishes_while_the_database_is_away_is_recorded_once_it_is_back(
    processes: Processes, process_env: dict[str, str], tmp_path: Path
) -> None:
    proxy = TcpProxy((process_env["DB_HOST"], int(process_env["DB_PORT"])))
    try:
        processes.start(
            sys.executable,
            "manage.py",
            "worker",
            name="behind-proxy",
            extra_env={"Q_WORKERS": "1", "DB_PORT": str(proxy.port), "STEP_LEASE_SECONDS": "10"},
        )
        effect = tmp_path / "effect"
        execution = launch(
            f"""
metadata: {{name: blip}}
steps:
  - name: effect
    type: script
    retries: {{limit: 1, backoff: 0}}
    script: |
      echo ran >> {effect}
      sleep 2
"""
        )
        wait_until(lambda: lines(effect), timeout=30, what="the step to start")
        proxy.cut()
        time.sleep(5)  # the step finishes meanwhile; its result cannot be stored
        proxy.restore()
        done = wait_until(lambda: finished(execution), timeout=40, what="the step to be recorded")
    finally:
        proxy.cut()
    effect_row = step(done, "effect")
    assert done.status == ExecutionStatus.COMPLETED, done.error_message
    assert effect_row.attempt == 1
    assert lines(effect) == ["ran"]
    # Its own worker stored the result, not the reaper from the evidence once the lease had run out.
    assert not effect_row.logs.filter(message__contains="recorded from its result file").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the step user is only switched for a worker running as root")
def test_a_script_step_cannot_read_the_workers_secrets(
    processes: Processes, process_env: dict[str, str], tmp_path: Path
) -> None:
    kubeconfig = tmp_path / "secrets" / "kubeconfig"
    kubeconfig.parent.mkdir()
    kubeconfig.write_text("users: [{name: admin, user: {token: kube-token-e2e-0123}}]\n")
    kubeconfig.chmod(0o600)
    secrets = {"SECRET_KEY": "e2e-secret-key-0123456789", "DB_PASSWORD": "e2e-db-password-0123"}
    processes.start(
        sys.executable,
        "manage.py",
        "worker",
        name="secrets",
        extra_env={"Q_WORKERS": "1", "KUBECONFIG": str(kubeconfig), **secrets},
    )
    script = textwrap.dedent(
        f"""
        worker=$(awk '/^PPid:/ {{print $2}}' /proc/$PPID/status)
        master=$(awk '/^PPid:/ {{print $2}}' /proc/$worker/status)
        echo "uid=$(id -u) worker=$worker master=$master"
        env
        for target in $PPID $worker $master; do
          cat /proc/$target/environ 2>&1 | tr '\\0' ' ' || true
          head -c 256 /proc/$target/mem 2>&1 || true
        done
        cat {kubeconfig} 2>&1 || true
        """
    )
    execution = launch(
        "metadata: {name: snoop}\nsteps:\n  - name: snoop\n    type: script\n    script: |\n"
        + textwrap.indent(script, "      ")
    )
    done = wait_until(lambda: finished(execution), timeout=45, what="the step to finish")
    assert done.status == ExecutionStatus.COMPLETED, done.error_message
    output = "\n".join(step(done, "snoop").logs.values_list("message", flat=True))
    for value in [*secrets.values(), "kube-token-e2e"]:
        assert value not in output
    uid = re.search(r"uid=(\d+) worker=(\d+) master=(\d+)", output)
    assert uid is not None and uid.group(1) != "0", output
    # Each read was attempted and refused (not skipped because a pid was missing).
    assert output.count("Permission denied") >= 7, output
