"""Latency of every list, count and admin page with a big history: real gunicorn (2 workers), PostgreSQL.

For each size (executions) it loads the history with generate_series in the database itself (3 steps
per execution, `--logs-per-execution` log lines, one audit event per execution, one resource per 100
executions), half of it owned by the developer's team, then times sequential requests of an admin
(API key), a developer of one team (API key) and an admin's browser session (portal and Django admin),
and runs `pgbench -S` on the same server in the same run as the yardstick of the machine.

    DB_HOST=127.0.0.1 DB_USER=postgres python benchmarks/bench_api.py --sizes 10000,1000000

10M executions is a manual run (about 20 GB of tables and indexes, an hour of loading on a laptop):
    python benchmarks/bench_api.py --sizes 10000000 --logs-per-execution 1 --requests 100
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"

LOAD = """
INSERT INTO workflow_executions (id, app_name, workflow_name, status, definition, parameters,
    variables, outputs, error_message, trigger, created_at, started_at, completed_at, updated_at, team_id)
SELECT 'wf-' || lpad(to_hex(i), 12, '0'), 'app-' || mod(i, 500), 'deploy-app',
    CASE WHEN mod(i, 10) = 0 THEN 'failed' ELSE 'completed' END, '{"steps": [{"name": "deploy"}]}',
    '{}', '{}', '{}', '', 'api', now() - i * interval '1 second', now() - i * interval '1 second',
    now() - i * interval '1 second' + interval '30 seconds', now(),
    CASE WHEN mod(i, 2) = 0 THEN %(team_a)s ELSE %(team_b)s END
FROM generate_series(1, %(executions)s) AS i;
INSERT INTO workflow_step_executions (execution_id, name, step_type, position, status, depends_on,
    config, outputs, error_message, skip_reason, attempt, max_attempts, lease_owner, decision_comment,
    created_at, started_at, completed_at)
SELECT e.id, 'step-' || p, 'kubernetes', p, e.status, '[]', '{}', '{}', '', '', 1, 1, '', '',
    e.created_at, e.started_at, e.completed_at
FROM workflow_executions e CROSS JOIN generate_series(0, 2) AS p;
INSERT INTO workflow_step_logs (execution_id, step_id, seq, stream, level, message, created_at)
SELECT s.execution_id, s.id, g.n, 'stdout', 'info', 'deployment/web rolled out, replica ' || g.n, s.created_at
FROM workflow_step_executions s
CROSS JOIN LATERAL generate_series(1, CASE WHEN s.position = 0 THEN %(logs_first)s
    WHEN s.position = 1 THEN %(logs_second)s ELSE %(logs_third)s END) AS g(n);
INSERT INTO audit_log (occurred_at, username, action, object_type, object_id, request_id, method, path,
    status_code, auth_method, summary)
SELECT now() - i * interval '1 second', 'dev', 'workflow.start', 'execution',
    'wf-' || lpad(to_hex(i), 12, '0'), '', 'POST', '/api/specs', 201, 'token', '{}'
FROM generate_series(1, %(executions)s) AS i;
INSERT INTO resource_instances (application_id, app_name, resource_name, resource_type, resource_class,
    resource_id, scope, team_id, state, kind, provider, params, metadata, outputs, hints, reference_url,
    error_message, secret_outputs, created_at, updated_at)
SELECT %(application)s, 'app-' || mod(i, 500), 'db-' || i, 'postgres', 'default', '', 'application', NULL,
    'active', 'managed', 'local', '{}', '{}', '{}', '[]', '', '', '', now(), now()
FROM generate_series(1, greatest(1, %(executions)s / 100)) AS i;
"""

SETUP = """
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from innominatus.accounts import services
from innominatus.accounts.models import Team
from workflows.models import Application
User = get_user_model()
team_a, _ = Team.objects.get_or_create(name="team-a")
team_b, _ = Team.objects.get_or_create(name="team-b")
admin = User.objects.create_superuser("bench-admin", password="bench-admin-pw")
dev = User.objects.create_user("bench-dev", password="bench-dev-pw")
dev.groups.add(Group.objects.get_or_create(name="developer")[0])
team_a.members.add(dev)
app = Application.objects.create(name="app-1", team=team_a, created_by=dev)
session = import_module(settings.SESSION_ENGINE).SessionStore()
session[SESSION_KEY] = str(admin.pk)
session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
session.create()
print(json.dumps({
    "admin_key": services.create_api_key(user=admin, name="bench").raw_key,
    "dev_key": services.create_api_key(user=dev, name="bench").raw_key,
    "session": session.session_key,
    "team_a": team_a.pk, "team_b": team_b.pk, "application": app.pk,
}))
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def get(url: str, headers: dict[str, str]) -> tuple[float, int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return (time.perf_counter() - started) * 1000, status, body


def pgbench(server: dict[str, str], seconds: int) -> str:
    """`pgbench -S` (select-only) on its own database of the same server: the machine's yardstick."""
    env = {**os.environ, "PGHOST": server["host"], "PGPORT": server["port"], "PGUSER": server["user"]}
    if server.get("password"):
        env["PGPASSWORD"] = server["password"]
    database = "idp_bench_pgbench"
    subprocess.run(["dropdb", "--if-exists", database], env=env, check=False, capture_output=True)
    subprocess.run(["createdb", database], env=env, check=True)
    try:
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", "10", database], env=env, check=True, capture_output=True
        )
        out = subprocess.run(
            ["pgbench", "-S", "-c", "1", "-T", str(seconds), database],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        subprocess.run(["dropdb", "--if-exists", database], env=env, check=False, capture_output=True)
    latency = re.search(r"latency average = ([0-9.]+) ms", out)
    tps = re.search(r"tps = ([0-9.]+)", out)
    return f"pgbench -S, 1 client, {seconds} s: latency {latency.group(1) if latency else '?'} ms, tps {tps.group(1) if tps else '?'}"


def run_size(args: argparse.Namespace, server: dict[str, str], executions: int) -> list[dict[str, object]]:
    conninfo = " ".join(f"{k}={v}" for k, v in server.items() if v)
    database = args.database
    with psycopg.connect(f"{conninfo} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    env = {
        **os.environ,
        "DB_HOST": server["host"],
        "DB_PORT": server["port"],
        "DB_USER": server["user"],
        "DB_NAME": database,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-secret-key"),
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        "Q_SYNC": "false",
        "GUNICORN_WORKERS": "2",
        "BIND_ADDRESS": "127.0.0.1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "warning",
        "STATIC_ROOT": str(work / "static"),
        "SECURE_COOKIES": "false",
        "DEBUG": "false",
        # The throttles run (their cost is part of every request) but never refuse the benchmark.
        "RATE_LIMIT_USER": "1000000/min",
        "RATE_LIMIT_ADDRESS": "1000000/min",
        "RATE_LIMIT_ANON": "1000000/min",
    }
    (work / "metrics").mkdir()
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=REPO, env=env, check=True)
    setup = subprocess.run(
        [*manage, "shell", "-c", SETUP], cwd=REPO, env=env, check=True, capture_output=True, text=True
    )
    ids = json.loads(setup.stdout.strip().splitlines()[-1])
    started = time.perf_counter()
    per = args.logs_per_execution
    with psycopg.connect(f"{conninfo} dbname={database}", autocommit=True) as conn:
        conn.execute(
            LOAD
            % {
                "executions": executions,
                "team_a": ids["team_a"],
                "team_b": ids["team_b"],
                "application": ids["application"],
                "logs_first": per // 3 + (1 if per % 3 > 0 else 0),
                "logs_second": per // 3 + (1 if per % 3 > 1 else 0),
                "logs_third": per // 3,
            }
        )
        conn.execute("VACUUM ANALYZE")
        counts = {
            table: conn.execute(
                f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'"
            ).fetchone()[0]
            for table in (
                "workflow_executions",
                "workflow_step_executions",
                "workflow_step_logs",
                "audit_log",
            )
        }
    print(
        f"\n== {executions:,} executions: loaded in {time.perf_counter() - started:.1f} s ("
        + ", ".join(f"{t} ~{n:,}" for t, n in counts.items())
        + ")"
    )
    print(pgbench(server, args.pgbench_seconds))

    port = 18000 + os.getpid() % 10000
    env["PORT"] = str(port)
    gunicorn = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "innominatus/gunicorn_conf.py", "innominatus.wsgi:application"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: list[dict[str, object]] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                get(f"{base}/health", {})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        admin = {"Authorization": f"Bearer {ids['admin_key']}"}
        dev = {"Authorization": f"Bearer {ids['dev_key']}"}
        browser = {"Cookie": f"sessionid={ids['session']}"}

        def deep(url: str, headers: dict[str, str], pages: int) -> str:
            for _ in range(pages):
                _, status, body = get(base + url, headers)
                assert status == 200, (url, status, body[:300])
                following = json.loads(body)["next"]
                if not following:
                    break
                url = following.replace(base, "")
            return url

        some_id = "wf-" + format(executions // 2, "x").rjust(12, "0")
        deep_pages = args.deep_pages
        endpoints: list[tuple[str, str, dict[str, str]]] = [
            ("/health (baseline: no database)", "/health", {}),
            ("API  workflows, first page (admin)", "/api/workflows", admin),
            ("API  workflows, first page (developer)", "/api/workflows", dev),
            (
                f"API  workflows, page {deep_pages + 1} (admin)",
                deep("/api/workflows", admin, deep_pages),
                admin,
            ),
            (
                f"API  workflows, page {deep_pages + 1} (developer)",
                deep("/api/workflows", dev, deep_pages),
                dev,
            ),
            ("API  workflows?app=app-7", "/api/workflows?app=app-7", admin),
            ("API  workflows?status=failed", "/api/workflows?status=failed", admin),
            ("API  workflows/{id}", f"/api/workflows/{some_id}", admin),
            ("API  workflows/{id}/logs", f"/api/workflows/{some_id}/logs", admin),
            ("API  resources, first page", "/api/resources", admin),
            (f"API  resources, page {deep_pages + 1}", deep("/api/resources", admin, deep_pages), admin),
            ("API  audit, first page", "/api/audit", admin),
            (f"API  audit, page {deep_pages + 1}", deep("/api/audit", admin, deep_pages), admin),
            ("API  stats (admin)", "/api/stats", admin),
            ("API  stats (developer)", "/api/stats", dev),
            ("portal dashboard", "/", browser),
            ("portal workflows", "/workflows", browser),
            ("portal workflows, page 40", "/workflows?page=40", browser),
            ("portal resources", "/resources", browser),
            ("/metrics", "/metrics", {}),
            ("admin executions", "/admin/workflows/workflowexecution/", browser),
            ("admin steps", "/admin/workflows/stepexecution/", browser),
            ("admin step logs", "/admin/workflows/steplog/", browser),
            ("admin audit events", "/admin/accounts/auditevent/", browser),
        ]
        warmups = min(10, args.requests)
        print(
            f"gunicorn, 2 workers; {args.requests} sequential requests per endpoint after {warmups} warm-ups"
        )
        for name, path, headers in endpoints:
            for _ in range(warmups):
                get(base + path, headers)
            samples: list[float] = []
            statuses: set[int] = set()
            for _ in range(args.requests):
                elapsed, status, _ = get(base + path, headers)
                samples.append(elapsed)
                statuses.add(status)
            row = {
                "size": executions,
                "endpoint": name,
                "p50": round(percentile(samples, 0.5), 2),
                "p95": round(percentile(samples, 0.95), 2),
                "mean": round(statistics.fmean(samples), 2),
                "statuses": sorted(statuses),
            }
            results.append(row)
            print(f"  {name:<44} p50 {row['p50']:8.2f} ms   p95 {row['p95']:8.2f} ms   {row['statuses']}")
    finally:
        gunicorn.terminate()
        gunicorn.wait(30)
        if not args.keep_db:
            with psycopg.connect(f"{conninfo} dbname=postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="Comma-separated execution counts.")
    parser.add_argument("--logs-per-execution", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--deep-pages", type=int, default=20, help="Pages to follow for the deep-page rows.")
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--database", default="idp_api_bench")
    parser.add_argument("--json", help="Also write the results to this file.")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    server = {
        "host": os.environ.get("DB_HOST", "127.0.0.1"),
        "port": os.environ.get("DB_PORT", "5432"),
        "user": os.environ.get("DB_USER", "postgres"),
        "password": os.environ.get("DB_PASSWORD", ""),
    }
    results: list[dict[str, object]] = []
    for size in (int(value) for value in args.sizes.split(",")):
        results.extend(run_size(args, server, size))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
