"""GET /health and GET /ready in-process: shape, status codes, degraded workers, pending migrations."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from ops.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db(transaction=True)

CHECKS = {"server", "database", "workers", "migrations"}


def _q_cluster(sync: bool) -> dict[str, Any]:
    from django.conf import settings

    return {**settings.Q_CLUSTER, "sync": sync}


def test_health_reports_every_component_in_the_documented_shape(client: Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["timestamp"].endswith("Z")
    assert isinstance(body["uptime_seconds"], float) and body["uptime_seconds"] >= 0
    assert set(body["checks"]) == CHECKS
    database = body["checks"]["database"]
    assert set(database) == {"name", "status", "message", "latency_ms", "timestamp"}
    assert database["name"] == "database" and database["status"] == "healthy"
    assert isinstance(database["latency_ms"], float) and database["latency_ms"] < 2000
    assert "no-store" in response["Cache-Control"]


def test_livez_answers_without_touching_the_database(
    client: Client, django_assert_num_queries: Any, caplog: Any
) -> None:
    with caplog.at_level("INFO", logger="innominatus.access"), django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "alive" and body["timestamp"].endswith("Z")
    assert isinstance(body["uptime_seconds"], float)
    assert not [record for record in caplog.records if record.name == "innominatus.access"]


def test_health_needs_no_authentication_and_is_not_access_logged(client: Client, caplog: Any) -> None:
    with caplog.at_level("INFO", logger="innominatus.access"):
        assert client.get("/health").status_code == 200
        assert client.get("/ready").status_code == 200
        assert client.get("/api/grafana/dashboards/innominatus").status_code in (401, 403)
    paths = [getattr(record, "path", "") for record in caplog.records if record.name == "innominatus.access"]
    assert paths == ["/api/grafana/dashboards/innominatus"]


@override_settings(Q_CLUSTER=_q_cluster(sync=False))
def test_workers_degrade_health_until_a_heartbeat_arrives(client: Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["checks"]["workers"]["status"] == "degraded"
    assert "manage.py worker" in body["checks"]["workers"]["message"]

    stale = timezone.now() - timedelta(minutes=5)
    WorkerHeartbeat.objects.create(worker_id="old:1", hostname="old", pid=1, last_seen=stale)
    response = client.get("/health")
    assert response.status_code == 200
    assert "no worker seen for 300 s" in response.json()["checks"]["workers"]["message"]

    WorkerHeartbeat.beat(hostname="w", pid=2, cluster="innominatus", version="test")
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert body["checks"]["workers"]["message"].startswith("1 worker process")


@override_settings(Q_CLUSTER=_q_cluster(sync=False), WORKER_STALL_SECONDS=30)
def test_workers_without_progress_make_the_workers_check_unhealthy(client: Client) -> None:
    from django_q.models import OrmQ

    now = timezone.now()
    WorkerHeartbeat.beat(hostname="w", pid=2, cluster="innominatus", version="test", idle_since=now)
    message = OrmQ.objects.create(key="innominatus", payload="x", lock=now - timedelta(seconds=120))
    # A task has waited 2 minutes, but the only worker has just become idle: it is about to take it.
    assert client.get("/health").json()["checks"]["workers"]["status"] == "healthy"

    WorkerHeartbeat.beat(
        hostname="w", pid=2, cluster="innominatus", version="test", idle_since=now - timedelta(seconds=90)
    )
    response = client.get("/health")
    workers = response.json()["checks"]["workers"]
    assert workers["status"] == "unhealthy"
    assert "no progress" in workers["message"] and "w:2" in workers["message"]
    # The web pod itself is fine: a frozen worker degrades /health, it does not fail the liveness probe.
    assert response.status_code == 200 and response.json()["status"] == "degraded"

    # A message a worker holds (locked into the future) is not waiting work.
    OrmQ.objects.filter(pk=message.pk).update(lock=now + timedelta(hours=1))
    assert client.get("/health").json()["checks"]["workers"]["status"] == "healthy"


def test_ready_fails_with_an_unapplied_migration_and_recovers(client: Client) -> None:
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True and ready.json()["timestamp"].endswith("Z")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, app, name, applied FROM django_migrations WHERE app = 'ops' AND name = %s",
            ["0001_initial"],
        )
        row = cursor.fetchone()
        cursor.execute("DELETE FROM django_migrations WHERE id = %s", [row[0]])
    try:
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["ready"] is False
        assert "ops.0001_initial" in ready.json()["message"]
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["checks"]["migrations"]["status"] == "degraded"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO django_migrations (id, app, name, applied) VALUES (%s, %s, %s, %s)", row
            )
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True and ready.json()["message"] == "Service is ready"


@override_settings(Q_CLUSTER=_q_cluster(sync=False))
def test_health_before_the_first_heartbeat_logs_one_line_without_a_traceback(
    client: Client, caplog: Any
) -> None:
    with caplog.at_level("WARNING", logger="health_check"):
        assert client.get("/health").json()["checks"]["workers"]["status"] == "degraded"
    records = [record for record in caplog.records if record.name == "health_check"]
    assert records, "the degraded check is still logged"
    for record in records:
        assert record.exc_info is None and record.exc_text is None
        assert record.getMessage().startswith("health check workers: ")
        assert "manage.py worker" in record.getMessage()
