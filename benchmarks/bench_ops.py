"""Latency of /health and /metrics from a real gunicorn (2 workers) with a big history in PostgreSQL.

Loads 100,000 finished executions (one step each) and 1,000,000 log lines with generate_series,
then times sequential requests and the cluster-gauge queries that every /metrics scrape runs.

    DB_HOST=127.0.0.1 DB_USER=postgres python benchmarks/bench_ops.py [--executions N] [--logs N]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"

LOAD = """
INSERT INTO workflow_executions (id, app_name, workflow_name, status, definition, parameters,
    variables, outputs, error_message, trigger, created_at, started_at, completed_at, updated_at)
SELECT 'wf-' || lpad(to_hex(i), 12, '0'), 'app-' || mod(i, 500), 'deploy-app',
    CASE WHEN mod(i, 10) = 0 THEN 'failed' ELSE 'completed' END, '{"steps": [{"name": "deploy"}]}',
    '{}', '{}', '{}', '', 'api', now() - i * interval '1 minute', now() - i * interval '1 minute',
    now() - i * interval '1 minute' + interval '30 seconds', now()
FROM generate_series(1, %(executions)s) AS i;
INSERT INTO workflow_executions (id, app_name, workflow_name, status, definition, parameters,
    variables, outputs, error_message, trigger, created_at, started_at, updated_at)
SELECT 'wf-run' || lpad(to_hex(i), 8, '0'), 'app-' || i, 'deploy-app', 'running', '{}', '{}', '{}',
    '{}', '', 'api', now(), now() - i * interval '1 second', now()
FROM generate_series(1, 20) AS i;
INSERT INTO workflow_step_executions (execution_id, name, step_type, position, status, depends_on,
    config, outputs, error_message, skip_reason, attempt, max_attempts, lease_owner, decision_comment,
    created_at, started_at, completed_at)
SELECT id, 'deploy', 'kubernetes', 0, status, '[]', '{}', '{}', '', '', 1, 1, '', '',
    created_at, started_at, completed_at
FROM workflow_executions;
INSERT INTO workflow_step_logs (execution_id, step_id, seq, stream, level, message, created_at)
SELECT s.execution_id, s.id, g.n, 'stdout', 'info', 'deployment/web rolled out, replica ' || g.n, s.created_at
FROM workflow_step_executions s
CROSS JOIN LATERAL generate_series(1, %(per_step)s) AS g(n)
LIMIT %(logs)s;
ANALYZE;
"""

GAUGE_QUERIES = {
    "executions by active status": (
        "SELECT status, count(id) FROM workflow_executions WHERE status IN ('pending', 'running', 'waiting') "
        "GROUP BY status"
    ),
    "oldest running": "SELECT min(started_at) FROM workflow_executions WHERE status = 'running'",
    "expired leases": (
        "SELECT count(*) FROM workflow_step_executions WHERE status = 'running' AND lease_expires_at < now()"
    ),
    "pending resources": (
        "SELECT resource_type, count(id) FROM resource_instances "
        "WHERE state IN ('requested', 'provisioning') GROUP BY resource_type"
    ),
    "queue depth": "SELECT count(*) FROM django_q_ormq",
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed_get(url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return (time.perf_counter() - started) * 1000, status, len(body)


def report(name: str, samples: list[float]) -> None:
    print(
        f"  {name:<34} p50 {percentile(samples, 0.5):7.2f} ms   p95 {percentile(samples, 0.95):7.2f} ms   "
        f"p99 {percentile(samples, 0.99):7.2f} ms   mean {statistics.fmean(samples):7.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--database", default="idp_ops_bench")
    parser.add_argument("--keep-db", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()

    host, port, user = (
        os.environ.get("DB_HOST", "127.0.0.1"),
        os.environ.get("DB_PORT", "5432"),
        os.environ.get("DB_USER", "postgres"),
    )
    password = os.environ.get("DB_PASSWORD", "")
    server = f"host={host} port={port} user={user}" + (f" password={password}" if password else "")
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    work = Path(tempfile.mkdtemp(prefix="bench-ops-"))
    env = {
        **os.environ,
        "DB_HOST": host,
        "DB_PORT": port,
        "DB_USER": user,
        "DB_NAME": args.database,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-secret-key"),
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        "Q_SYNC": "false",
        "GUNICORN_WORKERS": "2",
        "BIND_ADDRESS": "127.0.0.1",
        "LOG_LEVEL": "warning",
    }
    gunicorn = None
    try:
        subprocess.run(
            [str(BIN / "python"), "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True
        )
        started = time.perf_counter()
        per_step = max(1, -(-args.logs // (args.executions + 20)))
        with psycopg.connect(f"{server} dbname={args.database}", autocommit=True) as conn:
            conn.execute(LOAD % {"executions": args.executions, "logs": args.logs, "per_step": per_step})
            counts = {
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("workflow_executions", "workflow_step_executions", "workflow_step_logs")
            }
        print(
            f"loaded in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{t} {n:,}" for t, n in counts.items())
        )

        with psycopg.connect(f"{server} dbname={args.database}") as conn:
            print("cluster-gauge queries (each scrape runs all of them), 50 runs each:")
            for name, sql in GAUGE_QUERIES.items():
                times = []
                for _ in range(50):
                    t0 = time.perf_counter()
                    conn.execute(sql).fetchall()
                    times.append((time.perf_counter() - t0) * 1000)
                plan = " ".join(row[0] for row in conn.execute("EXPLAIN " + sql).fetchall())
                scan = "seq scan" if "Seq Scan on workflow" in plan else "index"
                report(f"{name} ({scan})", times)

        http_port = 18000 + os.getpid() % 10000
        env["PORT"] = str(http_port)
        gunicorn = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "innominatus/gunicorn_conf.py", "innominatus.wsgi:application"],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{http_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                timed_get(f"{base}/health")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        print(f"gunicorn, 2 workers, {args.requests} sequential requests per endpoint (after 20 warm-ups):")
        for path in ("/health", "/ready", "/metrics"):
            for _ in range(20):
                timed_get(base + path)
            results = [timed_get(base + path) for _ in range(args.requests)]
            statuses = sorted({status for _, status, _ in results})
            size = results[-1][2]
            report(f"GET {path} ({statuses}, {size:,} B)", [elapsed for elapsed, _, _ in results])
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(30)
        if not args.keep_db:
            with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
