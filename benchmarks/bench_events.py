"""Event streams beside the API: `GET /api/workflows` (and `/health`) latency from a real gunicorn with
the default serving model (2 workers, gthread), without open streams, with 50 open streams that receive
a steady flow of events, and after they closed again — all in one run on one database.

    DB_HOST=127.0.0.1 DB_USER=postgres python benchmarks/bench_events.py [--streams 50 --requests 300]
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[1]

SEED = """
INSERT INTO workflow_executions (id, app_name, workflow_name, status, definition, parameters,
    variables, outputs, error_message, trigger, created_at, started_at, completed_at, updated_at, team_id)
SELECT 'wf-' || lpad(to_hex(i), 12, '0'), 'app-' || mod(i, 50), 'deploy-app',
    CASE WHEN mod(i, 10) = 0 THEN 'failed' ELSE 'completed' END, '{"steps": [{"name": "deploy"}]}',
    '{}', '{}', '{}', '', 'api', now() - i * interval '1 minute', now() - i * interval '1 minute',
    now() - i * interval '1 minute' + interval '30 seconds', now(), (SELECT id FROM teams WHERE name = 'bench')
FROM generate_series(1, %(executions)s) AS i
"""

USER = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from innominatus.accounts.models import Team
from innominatus.accounts.services import create_api_key
user = get_user_model().objects.create_user("bench", password="bench-password-1")
user.groups.add(Group.objects.get_or_create(name="developer")[0])
Team.objects.create(name="bench").members.add(user)
print(create_api_key(user=user, name="bench").raw_key)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(session: requests.Session, url: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url, timeout=60)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text[:300]
    return samples


def line(name: str, samples: list[float]) -> str:
    return (
        f"  {name:<44} p50 {percentile(samples, 0.5):7.1f} ms  p95 {percentile(samples, 0.95):7.1f} ms  "
        f"mean {statistics.fmean(samples):7.1f} ms"
    )


class Stream(threading.Thread):
    """One SSE client; retries on 503 like an EventSource would (after Retry-After)."""

    def __init__(self, url: str, key: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.key, self.stop = url, key, stop
        self.events = 0
        self.refused = 0
        self.connected = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}", "Accept": "text/event-stream"}
        while not self.stop.is_set():
            with requests.get(self.url, headers=headers, stream=True, timeout=60) as response:
                if response.status_code == 503:
                    self.refused += 1
                    time.sleep(float(response.headers.get("Retry-After", "1")))
                    continue
                self.connected.set()
                for raw in response.iter_lines(decode_unicode=True):
                    if raw.startswith("event: "):
                        self.events += 1
                    if self.stop.is_set():
                        return


def trigger_cost(dsn: str, steps: int, rounds: int) -> tuple[float, float, float]:
    """Microseconds per committed step-status UPDATE (one statement, one transaction, as a worker
    records a step) with the event triggers and without them, alternating, median of `rounds`."""
    sys.path.insert(0, str(ROOT))
    from workflows.events.triggers import POSTGRESQL, POSTGRESQL_DROP

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO workflow_executions (id, app_name, workflow_name, status, definition, parameters, "
            "variables, outputs, error_message, trigger, created_at, updated_at, team_id) VALUES ('wf-trigger', "
            "'app-1', 'w', 'running', '{}', '{}', '{}', '{}', '', 'api', now(), now(), "
            "(SELECT id FROM teams WHERE name = 'bench'))"
        )
        conn.execute(
            "INSERT INTO workflow_step_executions (execution_id, name, step_type, position, status, depends_on, "
            "config, outputs, error_message, skip_reason, attempt, max_attempts, lease_owner, decision_comment, "
            "created_at) SELECT 'wf-trigger', 's' || i, 'noop', i, 'pending', '[]', '{}', '{}', '', '', 0, 1, "
            "'', '', now() FROM generate_series(1, %s) AS i",
            [steps],
        )
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM workflow_step_executions WHERE execution_id = 'wf-trigger'"
            )
        ]
        update = "UPDATE workflow_step_executions SET status = %s WHERE id = %s AND status = %s"

        def timed() -> float:
            conn.execute(
                "UPDATE workflow_step_executions SET status = 'pending' WHERE execution_id = 'wf-trigger'"
            )
            conn.execute("VACUUM ANALYZE workflow_step_executions")
            started = time.perf_counter()
            for pk in ids:
                conn.execute(update, ["running", pk, "pending"], prepare=True)
            return (time.perf_counter() - started) / len(ids) * 1e6

        with_triggers, without, no_notify = [], [], []
        silent = POSTGRESQL.replace("PERFORM pg_notify", "-- PERFORM pg_notify")
        for _ in range(rounds):
            with_triggers.append(timed())
            conn.execute(POSTGRESQL_DROP)
            without.append(timed())
            conn.execute(POSTGRESQL_DROP + silent)
            no_notify.append(timed())
            conn.execute(POSTGRESQL_DROP + POSTGRESQL)
    return statistics.median(with_triggers), statistics.median(without), statistics.median(no_notify)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--executions", type=int, default=5000)
    parser.add_argument("--events-per-second", type=float, default=10.0)
    parser.add_argument("--trigger-steps", type=int, default=3000)
    parser.add_argument("--skip-streams", action="store_true", help="Only the trigger cost.")
    parser.add_argument("--database", default=os.environ.get("BENCH_DB", "innominatus_bench_events"))
    args = parser.parse_args()

    host, user = os.environ.setdefault("DB_HOST", "127.0.0.1"), os.environ.setdefault("DB_USER", "postgres")
    admin = f"host={host} user={user} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    work = Path(tempfile.mkdtemp(prefix="innominatus-bench-events-"))
    env = {
        **os.environ,
        "DB_NAME": args.database,
        "SECRET_KEY": "benchmark-only-secret-key",
        "INNOMINATUS_DATA_DIR": str(work),
        "LOG_LEVEL": "warning",
        "SECURE_COOKIES": "false",
        "PROMETHEUS_MULTIPROC_DIR": "",
    }
    env.pop("GUNICORN_THREADS", None)
    env.pop("GUNICORN_WORKERS", None)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    key = (
        subprocess.run(
            [python, "manage.py", "shell", "-c", USER],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    dsn = f"host={host} user={user} dbname={args.database}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SEED, {"executions": args.executions})
        conn.execute("ANALYZE")

    cost_with, cost_without, cost_silent = trigger_cost(dsn, args.trigger_steps, 3)
    print(
        f"step status UPDATE + commit: {cost_with:6.0f} µs with the event triggers, {cost_without:6.0f} µs "
        f"without ({cost_with - cost_without:+.0f} µs), {cost_silent:6.0f} µs with the INSERT but no NOTIFY "
        f"({args.trigger_steps} updates, median of 3 rounds)"
    )
    if args.skip_streams:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        return 0
    port = free_port()
    web = subprocess.Popen(
        [python, "-m", "gunicorn", "-c", "python:innominatus.gunicorn_conf", "innominatus.wsgi"],
        cwd=ROOT,
        env={**env, "PORT": str(port), "BIND_ADDRESS": "127.0.0.1"},
        stdout=(work / "gunicorn.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    stop = threading.Event()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if session.get(base + "/livez", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        workflows = base + "/api/workflows"
        measure(session, workflows, 20)  # warm-up: imports, connections, the schema of the first list
        before = measure(session, workflows, args.requests)
        health_before = measure(session, base + "/health", args.requests // 3)

        streams = [Stream(base + "/api/events/stream", key, stop) for _ in range(args.streams)]
        for stream in streams:
            stream.start()
        for stream in streams:
            stream.connected.wait(60)
        connected = sum(stream.connected.is_set() for stream in streams)

        def produce() -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                number = 0
                while not stop.is_set():
                    number += 1
                    conn.execute(
                        "UPDATE workflow_executions SET status = CASE status WHEN 'completed' THEN 'failed' "
                        "ELSE 'completed' END WHERE id = %s",
                        ["wf-" + format(number % args.executions + 1, "012x")],
                    )
                    time.sleep(1 / args.events_per_second)

        producer = threading.Thread(target=produce, daemon=True)
        started = time.monotonic()
        producer.start()
        during = measure(session, workflows, args.requests)
        health_during = measure(session, base + "/health", args.requests // 3)
        elapsed = time.monotonic() - started
        received = sum(stream.events for stream in streams)
        refused = sum(stream.refused for stream in streams)
        stop.set()
        producer.join(5)
        for stream in streams:
            stream.join(1)
        time.sleep(1)
        after = measure(session, workflows, args.requests)
    finally:
        stop.set()
        web.terminate()
        try:
            web.wait(30)
        except subprocess.TimeoutExpired:
            web.kill()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    print(
        f"machine: {os.cpu_count()} cores; gunicorn: 2 workers x gthread (default conf); {args.executions} executions"
    )
    print(f"streams: {connected}/{args.streams} connected, {refused} refusals (503) on the way")
    print(
        f"events: {args.events_per_second:.0f}/s produced for {elapsed:.1f} s; {received} deliveries "
        f"({received / max(connected, 1):.0f} per stream)"
    )
    print(line("GET /api/workflows, no streams", before))
    print(line(f"GET /api/workflows, {connected} open streams", during))
    print(line("GET /api/workflows, streams closed again", after))
    print(line("GET /health, no streams", health_before))
    print(line(f"GET /health, {connected} open streams", health_during))
    return 0


if __name__ == "__main__":
    sys.exit(main())
