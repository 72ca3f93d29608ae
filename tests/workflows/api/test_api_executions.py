"""GET /api/workflows: filters, detail with steps, and incremental log tails."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.workflows.api.factories import make_application, make_execution, make_log, make_step
from workflows.choices import ExecutionStatus, StepStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(developer: Any) -> Any:
    return make_application(developer, "hello")


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_list_is_newest_first_and_filterable(api: APIClient, app: Any, developer: Any) -> None:
    other = make_application(developer, "other")
    now = timezone.now()
    old = make_execution(app, status=ExecutionStatus.COMPLETED, created_at=now - timedelta(days=2))
    mid = make_execution(
        other, status=ExecutionStatus.FAILED, workflow_name="undeploy", created_at=now - timedelta(days=1)
    )
    new = make_execution(app, status=ExecutionStatus.RUNNING, created_at=now)

    assert ids(api.get("/api/workflows")) == [new.id, mid.id, old.id]
    assert ids(api.get("/api/workflows?app=hello")) == [new.id, old.id]
    assert ids(api.get("/api/workflows?status=running")) == [new.id]
    assert ids(api.get("/api/workflows?status=running,failed")) == [new.id, mid.id]
    assert ids(api.get("/api/workflows?workflow_name=undeploy")) == [mid.id]
    assert ids(api.get("/api/workflows?search=undepl")) == [mid.id]
    assert ids(api.get(f"/api/workflows?search={old.id[3:]}")) == [old.id]
    assert ids(api.get("/api/workflows?search=othe")) == [mid.id]
    since = (now - timedelta(hours=36)).isoformat().replace("+00:00", "Z")
    assert ids(api.get(f"/api/workflows?created_after={since}")) == [new.id, mid.id]
    assert ids(api.get(f"/api/workflows?since={since}")) == [new.id, mid.id]
    assert ids(api.get(f"/api/workflows?until={since}")) == [old.id]
    assert ids(api.get(f"/api/workflows?created_before={since}")) == [old.id]
    assert ids(api.get("/api/workflows?ordering=created_at")) == [old.id, mid.id, new.id]


def test_invalid_filter_is_a_problem(api: APIClient) -> None:
    response = api.get("/api/workflows?status=running,exploded")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["path"] == "status"
    assert api.get("/api/workflows?since=yesterday").status_code == 400


def test_list_row_summarises_steps(api: APIClient, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    make_step(execution, "a", position=0, status=StepStatus.COMPLETED)
    make_step(execution, "b", position=1, status=StepStatus.RUNNING)
    row = api.get("/api/workflows").json()["results"][0]
    assert row["steps_total"] == 2
    assert row["steps_finished"] == 1
    assert row["revision"] == 1
    assert row["app_name"] == "hello"
    assert row["duration_seconds"] > 0


def test_detail_has_its_steps_in_order(api: APIClient, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.FAILED, error_message="boom")
    make_step(execution, "second", position=1, status=StepStatus.FAILED)
    make_step(execution, "first", position=0)
    body = api.get(f"/api/workflows/{execution.id}").json()
    assert body["id"] == execution.id
    assert body["error_message"] == "boom"
    assert [s["name"] for s in body["steps"]] == ["first", "second"]
    first = body["steps"][0]
    assert first["status"] == "completed"
    assert first["attempt"] == 1
    assert first["outputs"] == {"ok": True}
    assert first["duration_seconds"] == pytest.approx(3, abs=1)
    assert {"started_at", "completed_at", "error_message", "skip_reason"} <= set(first)
    assert api.get("/api/workflows/wf-000000000000").status_code == 404


def test_logs_tail_incrementally(api: APIClient, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    build = make_step(execution, "build", position=0)
    ship = make_step(execution, "ship", position=1, status=StepStatus.RUNNING)
    lines = [
        make_log(build, 1, "compiling"),
        make_log(ship, 1, "pushing"),
        make_log(build, 2, "done", stream="stderr"),
    ]

    url = f"/api/workflows/{execution.id}/logs"
    page = api.get(url).json()
    assert [line["message"] for line in page["lines"]] == ["compiling", "pushing", "done"]
    assert page["lines"][0] == {
        "id": lines[0].id,
        "seq": 1,
        "step": "build",
        "stream": "stdout",
        "level": "info",
        "message": "compiling",
        "created_at": page["lines"][0]["created_at"],
    }
    assert page["next_after"] == lines[2].id
    assert page["complete"] is False

    assert api.get(f"{url}?after={page['next_after']}").json()["lines"] == []
    make_log(ship, 2, "pushed")
    tail = api.get(f"{url}?after={page['next_after']}").json()
    assert [line["message"] for line in tail["lines"]] == ["pushed"]

    only_build = api.get(f"{url}?step=build").json()
    assert [line["message"] for line in only_build["lines"]] == ["compiling", "done"]

    limited = api.get(f"{url}?limit=2").json()
    assert len(limited["lines"]) == 2
    assert limited["next_after"] == lines[1].id


def test_logs_complete_once_execution_ended_and_all_lines_read(api: APIClient, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.COMPLETED)
    step = make_step(execution)
    make_log(step, 1, "a")
    make_log(step, 2, "b")
    url = f"/api/workflows/{execution.id}/logs"
    assert api.get(url).json()["complete"] is True
    assert api.get(f"{url}?limit=2").json()["complete"] is False
    assert api.get(f"{url}?limit=3").json()["complete"] is True


def test_logs_parameters_are_validated(api: APIClient, app: Any) -> None:
    execution = make_execution(app)
    url = f"/api/workflows/{execution.id}/logs"
    assert api.get(f"{url}?limit=0").status_code == 400
    assert api.get(f"{url}?limit=10001").status_code == 400
    assert api.get(f"{url}?after=-1").status_code == 400
    missing = api.get(f"{url}?step=nope")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
