"""Signal and kill trials against real `manage.py worker` processes; prints counts per kind of fault.

Usage (a scratch, migrated database; the DB_* variables of the worker; takes about 15 s per trial):

    DB_NAME=idp_trials SECRET_KEY=… python scripts/worker_trials.py --trials 20

Kinds: `sigterm` (one SIGTERM to the master while steps run), `double` (two SIGTERMs to the process
group), `kill-idle` (kill -9 of an idle worker process, then new work), `kill-master` (kill -9 of the
master while a step runs). Each trial runs workflows of two chained script steps that write `start`
and `end` to a ledger file; a step is lost when it never completes, run twice when its ledger holds
more than one `end`, and a worker is frozen when work it should take is not done within 60 s.
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "innominatus.settings")

import django  # noqa: E402

django.setup()

from workflows.choices import EXECUTION_TERMINAL_STATUSES, ExecutionStatus, StepStatus  # noqa: E402
from workflows.engine.loader import load_workflow  # noqa: E402
from workflows.models import StepExecution, WorkflowExecution  # noqa: E402
from workflows.services import executions  # noqa: E402
from workflows.steps.registry import known_step_types  # noqa: E402

DRAIN = 5
KINDS = ("sigterm", "double", "kill-idle", "kill-master")


def workflow(ledger: Path, seconds: float) -> str:
    steps = []
    for index, name in enumerate(("one", "two")):
        after = "\n    dependsOn: [one]" if index else ""
        target = f"{ledger}/$INNOMINATUS_EXECUTION_ID-{name}"
        steps.append(
            f"  - name: {name}\n    type: script{after}\n"
            f"    script: 'echo start >> {target}; sleep {seconds}; echo end >> {target}'"
        )
    return "metadata: {name: trial}\nsteps:\n" + "\n".join(steps) + "\n"


def launch(ledger: Path, seconds: float, count: int) -> list[str]:
    definition = load_workflow(workflow(ledger, seconds), known_step_types=known_step_types())
    return [
        executions.launch_execution(definition=definition, app_name="trials", parameters={}).pk
        for _ in range(count)
    ]


def start_worker(log: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    env = {**os.environ, "Q_WORKERS": str(workers), "WORKER_DRAIN_SECONDS": str(DRAIN)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )


def wait(predicate: Callable[[], object], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= end:
            return False
        time.sleep(0.2)
    return True


def group_gone(pgid: int, timeout: float) -> bool:
    def gone() -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        return False

    return wait(gone, timeout)


def stop(worker: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    worker.wait()
    if not group_gone(worker.pid, DRAIN + 10):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)


def running(ids: list[str]) -> int:
    return StepExecution.objects.filter(execution_id__in=ids, status=StepStatus.RUNNING).count()


def done(ids: list[str]) -> bool:
    return (
        not WorkflowExecution.objects.filter(pk__in=ids)
        .exclude(status__in=EXECUTION_TERMINAL_STATUSES)
        .exists()
    )


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def trial(kind: str, work: Path, counts: Counter[str], exits: list[float]) -> None:
    ledger = Path(tempfile.mkdtemp(dir=work))
    log = work / "worker.log"
    first = start_worker(log)
    rescue: subprocess.Popen[bytes] | None = None
    try:
        if kind == "kill-idle":
            wait(lambda: len(children(first.pid)) == 2, 30)
            time.sleep(3)
            os.kill(children(first.pid)[0], signal.SIGKILL)
            ids = launch(ledger, 0, 4)
            counts["completed" if wait(lambda: done(ids), 60) else "frozen"] += 1
            return
        ids = launch(ledger, 2, 3)
        if not wait(lambda: running(ids) >= (1 if kind == "kill-master" else 2), 60):
            counts["did not start"] += 1
            return
        signalled = time.monotonic()
        if kind == "sigterm":
            first.send_signal(signal.SIGTERM)
        elif kind == "double":
            os.killpg(first.pid, signal.SIGTERM)
            os.killpg(first.pid, signal.SIGTERM)
        else:
            first.kill()
        try:
            first.wait(timeout=DRAIN + 5)  # reaped, so only its worker processes can keep the group alive
            exited = group_gone(first.pid, max(0.0, DRAIN + 5 - (time.monotonic() - signalled)))
        except subprocess.TimeoutExpired:
            exited = False
        counts["exited within drain + 5 s" if exited else "still running after drain + 5 s"] += 1
        if exited:
            exits.append(time.monotonic() - signalled)
        rescue = start_worker(log)
        if not wait(lambda: done(ids), 90):
            counts["executions not finished"] += 1
        for execution_id in ids:
            for name in ("one", "two"):
                path = ledger / f"{execution_id}-{name}"
                ends = path.read_text().count("end") if path.exists() else 0
                counts[
                    "steps run once" if ends == 1 else "steps lost" if ends == 0 else "steps run twice"
                ] += 1
        completed = WorkflowExecution.objects.filter(pk__in=ids, status=ExecutionStatus.COMPLETED).count()
        counts["executions completed"] += completed
    finally:
        for worker in (first, rescue):
            if worker is not None:
                stop(worker)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--kind", choices=KINDS, action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="worker-trials-") as scratch:
        for kind in args.kind or KINDS:
            counts: Counter[str] = Counter()
            exits: list[float] = []
            for _ in range(args.trials):
                trial(kind, Path(scratch), counts, exits)
            figures = ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()))
            if exits:
                figures += (
                    f", exit seconds: median {sorted(exits)[len(exits) // 2]:.1f}, max {max(exits):.1f}"
                )
            print(f"{kind} ({args.trials} trials): {figures}", flush=True)  # noqa: T201 - the report


if __name__ == "__main__":
    main()
