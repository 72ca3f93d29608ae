"""Fault trials: kill -9 the worker process running a script step, N times, on two real worker
processes and PostgreSQL, and count what happened to the step's side effect.

Two kinds of trial:

- `retries: 1`, the worker killed while the script runs (before its side effect): the side effect must
  run exactly once (the killed attempt's process dies with its worker; the retry waits for it);
- `retries: 0`, the worker killed at a random moment of the step: the recorded status must match what
  happened (completed if and only if the side effect ran).

    DB_HOST=127.0.0.1 DB_USER=postgres SECRET_KEY=… .venv/bin/python benchmarks/bench_faults.py [--trials 20]
"""

import argparse
import collections
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "innominatus_faults"
LEASE_SECONDS = "10"
REAPER_SECONDS = "5"


def prepare(work: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DB_NAME": DB_NAME,
        "Q_SYNC": "false",
        "Q_WORKERS": "1",
        "STEP_LEASE_SECONDS": LEASE_SECONDS,
        "REAPER_INTERVAL_SECONDS": REAPER_SECONDS,
        "STEP_WORK_ROOT": str(work / "steps"),
        "LOG_FORMAT": "json",
    }
    psql = ["psql", "-h", env["DB_HOST"], "-U", env["DB_USER"], "-d", "postgres", "-qc"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"], check=True)
    subprocess.run([*psql, f"CREATE DATABASE {DB_NAME}"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def workflow(name: str, retries: int, effects: Path, started: Path) -> str:
    return f"""
metadata: {{name: {name}}}
steps:
  - name: effect
    type: script
    retries: {{limit: {retries}, backoff: 0}}
    script: |
      echo $$ >> {started}
      sleep 2
      echo ran >> {effects}
"""


def start_cluster(env: dict[str, str], work: Path, number: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=ROOT,
        env=env,
        stdout=open(work / f"cluster-{number}.log", "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_clusters(clusters: list[subprocess.Popen[bytes]]) -> None:
    for cluster in clusters:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGTERM)
    for cluster in clusters:
        try:
            cluster.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait()
        # Workers are in the cluster's process group; none may outlive it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)


def wait(predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="innominatus-faults-"))
    work.chmod(0o777)
    env = prepare(work)
    os.environ.update(
        {"DB_NAME": DB_NAME, "Q_SYNC": "false", "DJANGO_SETTINGS_MODULE": "innominatus.settings"}
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from workflows.choices import EXECUTION_TERMINAL_STATUSES, StepStatus
    from workflows.engine.loader import load_workflow
    from workflows.models import StepExecution, WorkflowExecution
    from workflows.services import executions
    from workflows.steps.registry import known_step_types

    clusters = [start_cluster(env, work, n) for n in range(2)]
    counts: dict[str, collections.Counter[str]] = {
        "retries-1": collections.Counter(),
        "retries-0": collections.Counter(),
    }
    recovery: list[float] = []
    try:
        for trial in range(args.trials * 2):
            kind = "retries-1" if trial % 2 == 0 else "retries-0"
            effects, started = work / f"effects-{trial}", work / f"started-{trial}"
            text = workflow(f"trial-{trial}", 1 if kind == "retries-1" else 0, effects, started)
            execution = executions.launch_execution(
                definition=load_workflow(text, known_step_types=known_step_types()),
                app_name="faults",
                parameters={},
            )

            def claimed(execution: WorkflowExecution = execution) -> StepExecution | None:
                return (
                    StepExecution.objects.filter(execution_id=execution.pk, status=StepStatus.RUNNING)
                    .exclude(lease_owner="")
                    .first()
                )

            row = wait(claimed, 30)
            if row is None:
                # A cluster frozen by an earlier kill (see below) takes nothing: restart both.
                counts[kind]["cluster froze before the step started, restarted"] += 1
                stop_clusters(clusters)
                clusters = [start_cluster(env, work, n) for n in range(2)]
                row = wait(claimed, 60)
            if row is None or not wait(started.exists, 10):
                counts[kind]["did not start"] += 1
                continue
            time.sleep(0.5 if kind == "retries-1" else random.uniform(0.0, 3.0))
            killed_at = time.monotonic()
            with contextlib.suppress(ProcessLookupError):  # it ended the step already
                os.kill(int(row.lease_owner.split(":")[1]), signal.SIGKILL)

            def terminal(execution: WorkflowExecution = execution) -> WorkflowExecution | None:
                return WorkflowExecution.objects.filter(
                    pk=execution.pk, status__in=EXECUTION_TERMINAL_STATUSES
                ).first()

            done = wait(terminal, 30)
            if done is None:
                # django-q2's queue lock, held by the killed process, can freeze a cluster (counted
                # apart; the workers' supervision handles it): restart both and let recovery go on.
                counts[kind]["cluster froze, restarted"] += 1
                stop_clusters(clusters)
                clusters = [start_cluster(env, work, n) for n in range(2)]
                done = wait(terminal, 60)
            time.sleep(2.5)  # a surviving first attempt would write its side effect by now
            runs = len(effects.read_text().splitlines()) if effects.exists() else 0
            if done is None:
                counts[kind]["non-terminal after 60 s"] += 1
                continue
            recovery.append(time.monotonic() - killed_at - 2.5)
            counts[kind][f"side effect ran {runs}x"] += 1
            status = done.steps.get(name="effect").status
            if kind == "retries-0":
                matches = (status == StepStatus.COMPLETED) == (runs == 1)
                counts[kind][f"recorded {status}, {'matches' if matches else 'DOES NOT MATCH'}"] += 1
            else:
                counts[kind][f"recorded {status}"] += 1
    finally:
        stop_clusters(clusters)
    print(f"lease {LEASE_SECONDS}s, reaper every {REAPER_SECONDS}s, {args.trials} trials of each kind")
    for kind, counter in counts.items():
        print(f"{kind}: " + ", ".join(f"{key}: {value}" for key, value in sorted(counter.items())))
    if recovery:
        recovery.sort()
        print(f"from kill to terminal: median {recovery[len(recovery) // 2]:.1f}s, max {recovery[-1]:.1f}s")


if __name__ == "__main__":
    main()
