"""/health and /ready from a real gunicorn against a PostgreSQL that this test stops and starts."""

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.servers import (
    Server,
    TempPostgres,
    free_port,
    gunicorn,
    http_json,
    manage,
    subprocess_env,
    wait_for,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def postgres() -> Iterator[TempPostgres]:
    if not (Path("/usr/lib/postgresql/15/bin/initdb").exists()):
        pytest.fail("PostgreSQL server binaries are missing (/usr/lib/postgresql/15/bin)")
    server = TempPostgres(free_port())
    server.start()
    server.psql("CREATE DATABASE idp_probe")
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="module")
def web(postgres: TempPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Server]]:
    logs = tmp_path_factory.mktemp("probes")
    env = subprocess_env(
        DB_HOST="127.0.0.1",
        DB_PORT=postgres.port,
        DB_USER="postgres",
        DB_NAME="idp_probe",
        DB_PASSWORD="",
        Q_SYNC="true",
        PROMETHEUS_MULTIPROC_DIR=logs / "metrics",
        HEALTH_CHECK_TIMEOUT="1.5",
        DB_CONNECT_TIMEOUT="2",
    )
    manage("migrate", "--noinput", env=env)
    port = free_port()
    server = gunicorn(port, env, logs / "gunicorn.log")
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.stop()


def test_probes_follow_the_database_down_and_back(postgres: TempPostgres, web: tuple[str, Server]) -> None:
    url, server = web
    status, body = http_json(f"{url}/health")
    assert status == 200 and body["status"] == "healthy", body
    assert http_json(f"{url}/ready")[0] == 200

    postgres.stop()
    try:
        started = time.monotonic()
        status, body = http_json(f"{url}/health")
        assert time.monotonic() - started < 5, "a dead database must not hang the probe"
        assert status == 503
        assert body["status"] == "unhealthy"
        assert body["checks"]["database"]["status"] == "unhealthy"
        assert "database unreachable" in body["checks"]["database"]["message"]
        assert body["checks"]["server"]["status"] == "healthy"
        status, ready = http_json(f"{url}/ready")
        assert status == 503 and ready["ready"] is False
        assert ready["message"].startswith("database: database unreachable")
        # Liveness never follows the database: an outage takes pods out of the Service, restarts none.
        status, live = http_json(f"{url}/livez")
        assert status == 200 and live["status"] == "alive", live
    finally:
        postgres.start()

    wait_for(lambda: http_json(f"{url}/health")[0] == 200, timeout=30, what="/health to recover")
    wait_for(lambda: http_json(f"{url}/ready")[0] == 200, timeout=30, what="/ready to recover")
    assert '"path": "/health"' not in server.output(), "probes must not be access-logged"


def test_ready_is_503_while_a_migration_is_unapplied(postgres: TempPostgres, web: tuple[str, Server]) -> None:
    url, _ = web
    row = postgres.psql(
        "DELETE FROM django_migrations WHERE app = 'ops' AND name = '0001_initial' RETURNING id, applied",
        "idp_probe",
    )
    migration_id, applied = row.split("|")
    try:
        status, ready = http_json(f"{url}/ready")
        assert status == 503 and ready["ready"] is False
        assert "ops.0001_initial" in ready["message"]
        status, health = http_json(f"{url}/health")
        assert status == 200 and health["checks"]["migrations"]["status"] == "degraded"
    finally:
        postgres.psql(
            "INSERT INTO django_migrations (id, app, name, applied)"
            f" VALUES ({migration_id}, 'ops', '0001_initial', '{applied}')",
            "idp_probe",
        )
    status, ready = http_json(f"{url}/ready")
    assert status == 200 and ready == {
        "ready": True,
        "timestamp": ready["timestamp"],
        "message": "Service is ready",
    }


def test_a_hung_database_cannot_hang_the_probes(tmp_path: Path) -> None:
    # A listener that completes TCP handshakes but never says a word, like a wedged database host.
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)
    env = subprocess_env(
        DB_HOST="127.0.0.1",
        DB_PORT=hung.getsockname()[1],
        DB_NAME="idp_hung",
        DB_CONNECT_TIMEOUT="30",
        HEALTH_CHECK_TIMEOUT="1",
        Q_SYNC="true",
        PROMETHEUS_MULTIPROC_DIR=tmp_path / "metrics",
    )
    port = free_port()
    server = gunicorn(port, env, tmp_path / "gunicorn.log", workers=1)
    try:
        for path in ("/health", "/ready"):
            started = time.monotonic()
            status, body = http_json(f"http://127.0.0.1:{port}{path}", timeout=15)
            elapsed = time.monotonic() - started
            assert status == 503, body
            assert elapsed < 4, f"{path} took {elapsed:.1f}s"
        assert "Timed out after 1 seconds" in body["message"]
    finally:
        server.stop()
        hung.close()
