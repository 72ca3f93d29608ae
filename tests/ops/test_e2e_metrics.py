"""Metrics, logs and worker heartbeats from real processes: gunicorn with two workers and `manage.py worker`
sharing one PROMETHEUS_MULTIPROC_DIR, the worker metrics port, and a (fake) Pushgateway."""

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from innominatus.locks import advisory_key
from ops.maintenance import CACHE_SECONDS, LOCK_NAME
from tests.ops.servers import (
    free_port,
    gunicorn,
    http,
    http_json,
    manage,
    subprocess_env,
    wait_for,
    worker,
)

pytestmark = pytest.mark.e2e

API_REQUESTS = 30
FAILING_REQUESTS = 8
LAUNCH = """
from workflows.engine.loader import load_workflow
from workflows.services.executions import launch_execution
from workflows.steps.registry import known_step_types

ok = "metadata: {name: e2e-ok}\\nsteps:\\n  - {name: a, type: noop}\\n  - {name: b, type: noop, dependsOn: [a]}\\n"
bad = "metadata: {name: e2e-bad}\\nsteps:\\n  - {name: c, type: noop, config: {fail: broken on purpose}}\\n"
for text in (ok, bad):
    launch_execution(definition=load_workflow(text, known_step_types=known_step_types()), app_name="e2e")
"""


class _Pushgateway(BaseHTTPRequestHandler):
    pushes: list[tuple[str, str, str]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.pushes.append((self.command, self.path, body))
        self.send_response(200)
        self.end_headers()

    do_POST = do_PUT

    def log_message(self, *args: Any) -> None:
        return


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def total(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(
        value
        for (sample, sample_labels), value in found.items()
        if sample == name and wanted <= sample_labels
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = subprocess_env()
    database = f"idp_ops_e2e_{uuid.uuid4().hex[:8]}"
    admin = f"host={base['DB_HOST']} port={base['DB_PORT']} user={base['DB_USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    logs = tmp_path_factory.mktemp("metrics")
    pushgateway = ThreadingHTTPServer(("127.0.0.1", 0), _Pushgateway)
    threading.Thread(target=pushgateway.serve_forever, daemon=True).start()
    worker_port = free_port()
    env = subprocess_env(
        DB_NAME=database,
        PROMETHEUS_MULTIPROC_DIR=logs / "prometheus",
        GUNICORN_ACCESS_LOG="true",
        WORKER_METRICS_PORT=worker_port,
        WORKER_METRICS_ADDRESS="127.0.0.1",
        WORKER_HEARTBEAT_SECONDS="1",
        PUSHGATEWAY_URL=f"http://127.0.0.1:{pushgateway.server_address[1]}",
        Q_WORKERS="2",
        GIT_COMMIT="e2e0commit01",
    )
    manage("migrate", "--noinput", env=env)
    port = free_port()
    web = gunicorn(port, env, logs / "gunicorn.log")
    workers = worker(env, logs / "worker.log")
    try:
        yield {
            "url": f"http://127.0.0.1:{port}",
            "web": web,
            "workers": workers,
            "env": env,
            "worker_url": f"http://127.0.0.1:{worker_port}/metrics",
            "dsn": f"host={base['DB_HOST']} port={base['DB_PORT']} user={base['DB_USER']} dbname={database}",
            "metrics_dir": logs / "prometheus",
        }
    finally:
        workers.stop()
        web.stop()
        pushgateway.shutdown()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, _, body = http(url)
    assert status == 200
    return samples(body.decode())


def test_http_counters_add_up_across_gunicorn_workers(stack: dict[str, Any]) -> None:
    url = stack["url"]
    route = {"route": "/api/workflows", "method": "GET"}
    statuses: list[int] = []

    def api() -> tuple[int, dict[str, str]]:
        status, headers, _ = http(f"{url}/api/workflows")
        statuses.append(status)
        return status, headers

    before = scrape(f"{url}/metrics")
    for _ in range(API_REQUESTS):
        assert api()[0] in (401, 403)
    # A restore in progress (held here like `manage.py restore` holds it) makes the API fail with 503.
    with psycopg.connect(stack["dsn"], autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [advisory_key(LOCK_NAME)])
        locked_at = time.monotonic()
        wait_for(lambda: api()[0] == 503, timeout=10, what="maintenance 503")
        # One worker noticing is not all: each re-checks the flag at most CACHE_SECONDS after its last look.
        time.sleep(max(0.0, locked_at + CACHE_SECONDS + 0.2 - time.monotonic()))
        for _ in range(FAILING_REQUESTS):
            status, headers = api()
            assert status == 503 and headers["Retry-After"] == "30"
    # Each process re-checks the maintenance flag at most every two seconds.
    wait_for(lambda: all(api()[0] != 503 for _ in range(4)), timeout=10, what="the API back")
    failed = statuses.count(503)
    assert failed >= FAILING_REQUESTS + 1

    # Whichever worker answers the scrape, it reports the exact sum over both workers.
    for _ in range(6):
        found = scrape(f"{url}/metrics")
        requests = total(found, "innominatus_http_requests_total", **route)
        assert requests - total(before, "innominatus_http_requests_total", **route) == len(statuses)
        errors = total(found, "innominatus_http_errors_total", **route)
        assert errors - total(before, "innominatus_http_errors_total", **route) == failed
        assert total(found, "innominatus_http_errors_total", status="503", **route) >= failed
        assert total(found, "innominatus_db_queries_total") > total(before, "innominatus_db_queries_total")
        assert total(found, "innominatus_build_info", version="0.1.0", commit="e2e0commit01") == 1
        assert total(found, "innominatus_processes") >= 3
        assert total(found, "process_resident_memory_bytes") > 0
    pids = {path.stem.rsplit("_", 1)[-1] for path in stack["metrics_dir"].glob("counter_*.db")}
    assert len(pids) >= 2, pids


def test_worker_counters_reach_the_worker_port_the_web_metrics_and_the_pushgateway(
    stack: dict[str, Any],
) -> None:
    # Two real workflow runs, executed by the worker's processes: one completes, one fails.
    manage("shell", "-c", LAUNCH, env=stack["env"])

    def worker_counts() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
        try:
            found = scrape(stack["worker_url"])
        except OSError:
            return None
        return found if total(found, "innominatus_workflows_executed_total") >= 2 else None

    found = wait_for(worker_counts, timeout=60, what=f"worker metrics\n{stack['workers'].output()[-3000:]}")
    assert total(found, "innominatus_workflows_succeeded_total") == 1
    assert total(found, "innominatus_workflows_failed_total") == 1
    assert total(found, "innominatus_workflows_started_total") == 2
    assert total(found, "innominatus_workflow_duration_seconds_count") == 2
    assert total(found, "innominatus_workflow_duration_seconds_avg") > 0
    assert total(found, "innominatus_step_duration_seconds_count", type="noop", status="completed") == 2
    assert total(found, "innominatus_step_duration_seconds_count", type="noop", status="failed") == 1
    # The web server on the same host shares the directory and sees the worker's counters too.
    web = scrape(f"{stack['url']}/metrics")
    assert total(web, "innominatus_workflows_executed_total") == 2
    assert total(web, "innominatus_workers_alive", scope="cluster") >= 1

    def pushed() -> str | None:
        for method, path, body in reversed(_Pushgateway.pushes):
            if "innominatus_workflows_executed_total 2.0" in body:
                return f"{method} {path}"
        return None

    assert wait_for(pushed, timeout=30, what="a push with the worker counters") == (
        f"PUT /metrics/job/innominatus-worker/instance/{socket.gethostname()}"
    )
    status, health = http_json(f"{stack['url']}/health")
    assert status == 200 and health["checks"]["workers"]["status"] == "healthy", health


def test_every_log_line_is_json_and_probes_are_not_logged(stack: dict[str, Any]) -> None:
    url = stack["url"]
    for path in ("/health", "/ready", "/metrics"):
        http(f"{url}{path}")
    http(f"{url}/api/workflows", headers={"X-Request-ID": "e2e-request-1"})
    lines = [line for line in stack["web"].output().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert all({"level", "timestamp", "message", "logger"} <= set(record) for record in records)
    access = [record for record in records if record["logger"] == "innominatus.access"]
    mine = [record for record in access if record.get("request_id") == "e2e-request-1"]
    assert len(mine) == 1 and mine[0]["path"] == "/api/workflows" and mine[0]["status"] in (401, 403)
    assert isinstance(mine[0]["duration_ms"], float)
    gunicorn_access = [record for record in records if record["logger"] == "gunicorn.access"]
    assert gunicorn_access and all(
        record["path"] not in ("/health", "/ready", "/metrics") for record in gunicorn_access
    )
    assert not [record for record in access if record["path"] in ("/health", "/ready", "/metrics")]
    assert any(
        record["logger"] == "gunicorn.error" and "Booting worker" in record["message"] for record in records
    )
    worker_lines = [line for line in stack["workers"].output().splitlines() if line.strip()]
    assert worker_lines and all(json.loads(line)["level"] for line in worker_lines)
