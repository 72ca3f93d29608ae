"""Large lists page by cursor: every row exactly once while rows arrive, and each page an index range scan."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from innominatus.accounts.models import AuditEvent
from tests.workflows.api.factories import make_application, make_execution, make_step
from workflows.choices import ExecutionStatus
from workflows.models import Application, ResourceInstance, WorkflowExecution

pytestmark = pytest.mark.django_db


def _bulk_executions(app: Application, count: int, *, start: Any = None, tie_every: int = 0) -> None:
    """`count` executions of `app`, one second apart (pairs sharing a timestamp when tie_every)."""
    start = start or timezone.now() - timedelta(days=30)
    rows = []
    for index in range(count):
        offset = index // 2 if tie_every else index
        status = ExecutionStatus.COMPLETED if index % 3 else ExecutionStatus.FAILED
        rows.append(
            WorkflowExecution(
                application=app,
                app_name=app.name,
                team=app.team,
                workflow_name="deploy",
                status=status,
                definition={},
                created_at=start + timedelta(seconds=offset),
                started_at=None if index % 4 == 0 else start + timedelta(seconds=offset),
            )
        )
    WorkflowExecution.objects.bulk_create(rows, batch_size=1000)


def _walk(client: APIClient, url: str, during: Any = None) -> list[str]:
    seen: list[str] = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) >= {"results", "next", "previous", "count", "count_is_estimate"}
        seen.extend(str(row["id"]) for row in body["results"])
        url = body["next"]
        pages += 1
        if during is not None:
            during(pages)
    return seen


@pytest.mark.parametrize(
    "ordering", ["", "&ordering=started_at", "&ordering=-started_at", "&ordering=status"]
)
def test_every_row_exactly_once_while_rows_are_inserted(
    api: APIClient, developer: Any, ordering: str
) -> None:
    app = make_application(developer, "shop")
    _bulk_executions(app, 95, tie_every=2)
    before = set(WorkflowExecution.objects.values_list("pk", flat=True))

    def insert_some(page: int) -> None:
        # New runs arrive while the client pages: some at the head, one in the already visited past.
        make_execution(app, status=ExecutionStatus.RUNNING)
        make_execution(app, created_at=timezone.now() - timedelta(days=29, hours=23, minutes=59))

    seen = _walk(api, f"/api/workflows?page_size=7{ordering}", during=insert_some)
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert before <= set(seen), "a row that existed before paging began was skipped"


def test_previous_link_returns_the_page_before(api: APIClient, developer: Any) -> None:
    app = make_application(developer, "shop")
    _bulk_executions(app, 30, tie_every=2)
    first = api.get("/api/workflows?page_size=10").json()
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    assert third["next"] is None
    back = api.get(third["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in second["results"]]
    again = api.get(back["previous"]).json()
    assert [row["id"] for row in again["results"]] == [row["id"] for row in first["results"]]
    assert again["previous"] is None


def test_count_is_exact_up_to_the_cap_and_estimated_above(
    api: APIClient, developer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from innominatus.pagination import KeysetPagination

    app = make_application(developer, "shop")
    _bulk_executions(app, 40)
    body = api.get("/api/workflows?page_size=10").json()
    assert (body["count"], body["count_is_estimate"]) == (40, False)
    monkeypatch.setattr(KeysetPagination, "count_cap", 25)
    body = api.get("/api/workflows?page_size=10").json()
    assert body["count_is_estimate"] is True
    assert body["count"] > 25


def test_a_cursor_of_another_ordering_is_a_400(api: APIClient, developer: Any) -> None:
    app = make_application(developer, "shop")
    _bulk_executions(app, 5)
    cursor_url = api.get("/api/workflows?page_size=2").json()["next"]
    cursor = cursor_url.split("cursor=")[1].split("&")[0]
    response = api.get(f"/api/workflows?page_size=2&ordering=status&cursor={cursor}")
    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == ["cursor"]


def test_step_progress_is_decorated_per_page(api: APIClient, developer: Any) -> None:
    app = make_application(developer, "shop")
    execution = make_execution(app)
    make_step(execution, "a")
    make_step(execution, "b", position=1, status="pending")
    row = api.get("/api/workflows").json()["results"][0]
    assert (row["steps_total"], row["steps_finished"], row["revision"]) == (2, 1, 1)


# --- plans (PostgreSQL): each page is a LIMIT over an index scan, with no aggregate over the table ----


def _plan(sql: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        raw = cursor.fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw
    return dict(plan[0]["Plan"])


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found.extend(_nodes(child))
    return found


def _page_query(client: APIClient, url: str, table: str) -> str:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    candidates = [
        query["sql"]
        for query in queries.captured_queries
        if f'FROM "{table}"' in query["sql"] and "LIMIT" in query["sql"]
    ]
    assert candidates, [query["sql"] for query in queries.captured_queries]
    return candidates[0]


def _assert_index_range(sql: str) -> None:
    plan = _plan(sql)
    assert plan["Node Type"] == "Limit", plan
    types = [node["Node Type"] for node in _nodes(plan)]
    assert any(kind.startswith("Index") for kind in types), types
    assert "Aggregate" not in types, types
    assert "Seq Scan" not in types, types
    assert "Sort" not in types, types  # a full sort would read every row; an incremental one does not


@pytest.fixture
def thousands(developer: Any) -> Application:
    if connection.vendor != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    app = make_application(developer, "shop")
    _bulk_executions(app, 3000)
    ResourceInstance.objects.bulk_create(
        ResourceInstance(
            application=app, app_name=app.name, resource_name=f"db{i:05d}", resource_type="postgres"
        )
        for i in range(3000)
    )
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(occurred_at=now - timedelta(seconds=i), action="app.create", username="dev")
        for i in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE workflow_executions, resource_instances, audit_log")
    return app


@pytest.mark.parametrize("deep", [False, True])
@pytest.mark.parametrize("who", ["developer", "admin"])
def test_execution_pages_are_index_range_scans(
    thousands: Application, api: APIClient, admin_api: APIClient, who: str, deep: bool
) -> None:
    client = api if who == "developer" else admin_api
    url = "/api/workflows?page_size=50"
    if deep:
        for _ in range(3):
            url = client.get(url).json()["next"]
    _assert_index_range(_page_query(client, url, "workflow_executions"))


def test_resource_pages_are_index_range_scans(thousands: Application, api: APIClient) -> None:
    first = api.get("/api/resources?page_size=50").json()
    _assert_index_range(_page_query(api, first["next"], "resource_instances"))


def test_audit_pages_are_index_range_scans(thousands: Application, admin_api: APIClient) -> None:
    first = admin_api.get("/api/audit?page_size=50").json()
    _assert_index_range(_page_query(admin_api, first["next"], "audit_log"))
