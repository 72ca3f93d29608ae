"""Engine benchmark: no-op step throughput and dispatch latency on 2 worker processes and PostgreSQL,
printed beside the machine's own baselines measured in the same run: raw django-q2 no-op task
throughput and `pgbench -N -c 2` transactions per second.

    DB_HOST=127.0.0.1 DB_USER=postgres .venv/bin/python benchmarks/bench_engine.py [--workflows 100 --steps 10 --rounds 3]
"""

import argparse
import itertools
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Names of the scratch databases; overridable so that parallel runs on one server do not collide.
BENCH_DB = os.environ.get("BENCH_DB", "innominatus_bench")
PGBENCH_DB = os.environ.get("PGBENCH_DB", "innominatus_pgbench")


def psql(*args: str, db: str = "postgres") -> None:
    subprocess.run(
        ["psql", "-h", os.environ["DB_HOST"], "-U", os.environ["DB_USER"], "-d", db, "-qc", *args],
        check=True,
        capture_output=True,
    )


def fresh_database(name: str) -> None:
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")


def pgbench_tps(seconds: int) -> float:
    """`pgbench -N -c 2` on this machine's PostgreSQL: the database's own write throughput."""
    fresh_database(PGBENCH_DB)
    base = ["-h", os.environ["DB_HOST"], "-U", os.environ["DB_USER"]]
    subprocess.run(["pgbench", *base, "-i", "-q", "-s", "5", PGBENCH_DB], check=True, capture_output=True)
    out = subprocess.run(
        ["pgbench", *base, "-N", "-c", "2", "-j", "2", "-T", str(seconds), PGBENCH_DB],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    psql(f"DROP DATABASE IF EXISTS {PGBENCH_DB} WITH (FORCE)")
    match = re.search(r"tps = ([\d.]+)", out)
    return float(match.group(1)) if match else float("nan")


def start_cluster(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_cluster(child: subprocess.Popen[bytes]) -> None:
    os.killpg(child.pid, signal.SIGTERM)
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)


def raw_q2_throughput(count: int) -> float:
    """Enqueue `count` no-op tasks into the running cluster and time until it has drained them all.

    Timed from the first enqueue, like the engine's figure is timed from the first launch: the cluster
    drains while tasks are still being sent, so timing only the drain would overstate its rate.
    """
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    started = time.monotonic()
    for _ in range(count):
        async_task("time.sleep", 0, q_options={"save": False, "sync": False})
    while OrmQ.objects.exists():
        time.sleep(0.01)
    return count / (time.monotonic() - started)


def engine_throughput(workflows: int, steps: int) -> tuple[float, list[float]]:
    """Launch `workflows` chains of `steps` no-op steps; return steps/s and dispatch latencies (s)."""
    from django.db.models import Min

    from workflows.choices import ExecutionStatus
    from workflows.engine.loader import load_workflow
    from workflows.models import StepExecution, StepLog, WorkflowExecution
    from workflows.services.executions import launch_execution
    from workflows.steps.registry import known_step_types

    text = "metadata: {name: bench}\nsteps:\n" + "".join(
        f"  - {{name: s{i}, type: noop}}\n" for i in range(steps)
    )
    definition = load_workflow(text, known_step_types=known_step_types())
    started = time.monotonic()
    ids = [launch_execution(definition=definition, app_name="bench").pk for _ in range(workflows)]
    while WorkflowExecution.objects.filter(pk__in=ids).exclude(status=ExecutionStatus.COMPLETED).exists():
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    # A step's claim time is written before the transaction that claims it commits, so the successor's
    # start is taken from its first log line, written once it really runs.
    first_lines = (
        StepLog.objects.filter(execution_id__in=ids)
        .values("step_id")
        .annotate(first=Min("created_at"))
        .values_list("step_id", "first")
    )
    began = dict(first_lines)
    latencies: list[float] = []
    for execution_id in ids:
        rows = list(
            StepExecution.objects.filter(execution_id=execution_id)
            .order_by("position")
            .values_list("pk", "completed_at")
        )
        latencies.extend((began[nxt[0]] - prev[1]).total_seconds() for prev, nxt in itertools.pairwise(rows))
    return workflows * steps / elapsed, latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workflows", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating q2 and engine rounds; medians are compared"
    )
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    args = parser.parse_args()

    os.environ.setdefault("DB_HOST", "127.0.0.1")
    os.environ.setdefault("DB_USER", "postgres")
    os.environ["DB_NAME"] = BENCH_DB
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ["Q_SYNC"] = "false"
    os.environ.setdefault("Q_WORKERS", "2")
    os.environ.setdefault("Q_POLL", "0.01")
    os.environ.setdefault("LOG_LEVEL", "warning")
    work = Path(tempfile.mkdtemp(prefix="innominatus-bench-"))
    os.environ["STEP_WORK_ROOT"] = str(work / "steps")
    os.environ["DJANGO_SETTINGS_MODULE"] = "innominatus.settings"
    sys.path.insert(0, str(ROOT))

    tps = pgbench_tps(args.pgbench_seconds)
    fresh_database(BENCH_DB)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True, env=os.environ)

    import django

    django.setup()
    cluster = start_cluster(dict(os.environ), work / "qcluster.log")
    q2_rates: list[float] = []
    step_rates: list[float] = []
    latencies: list[float] = []
    try:
        time.sleep(3)
        # Alternating rounds: a machine whose speed drifts (shared hosts do) affects both sides alike.
        for number in range(1, args.rounds + 1):
            # Each side starts from vacuumed tables: dead rows left by a previous round slow the next.
            psql("VACUUM ANALYZE", db=BENCH_DB)
            q2_rates.append(raw_q2_throughput(args.tasks))
            psql("VACUUM ANALYZE", db=BENCH_DB)
            rate, round_latencies = engine_throughput(args.workflows, args.steps)
            step_rates.append(rate)
            latencies.extend(round_latencies)
            print(
                f"round {number}: raw q2 {q2_rates[-1]:7.1f} tasks/s, engine {rate:7.1f} steps/s",
                file=sys.stderr,
            )
    finally:
        stop_cluster(cluster)
        from django.db import connections

        connections.close_all()
        psql(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        shutil.rmtree(work, ignore_errors=True)

    q2_rate, step_rate = statistics.median(q2_rates), statistics.median(step_rates)
    rounds = f"median of {args.rounds} rounds"
    print(f"machine: {os.cpu_count()} cores; workers: 1 qcluster x {os.environ['Q_WORKERS']} processes")
    print(f"baseline pgbench -N -c 2 ............ {tps:10.0f} tps")
    print(f"baseline raw django-q2 no-op tasks .. {q2_rate:10.1f} tasks/s ({args.tasks} tasks, {rounds})")
    print(
        f"engine no-op step throughput ........ {step_rate:10.1f} steps/s "
        f"({args.workflows} x {args.steps} steps, {rounds})"
    )
    print(f"dispatch latency p50 ................ {percentile(latencies, 0.50) * 1000:10.1f} ms")
    print(f"dispatch latency p95 ................ {percentile(latencies, 0.95) * 1000:10.1f} ms")
    print(f"dispatch latency mean ............... {statistics.mean(latencies) * 1000:10.1f} ms")
    ratio = step_rate / q2_rate if q2_rate else float("nan")
    print(f"step throughput / raw q2 throughput . {ratio:10.2f}")


if __name__ == "__main__":
    main()
