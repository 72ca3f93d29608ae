"""GET /api/resources and /api/stats."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.api.factories import make_application, make_execution, make_resource, make_step
from workflows.choices import ExecutionStatus, ResourceState, StepStatus

pytestmark = pytest.mark.django_db


def test_list_filters(api: APIClient, developer: Any) -> None:
    hello = make_application(developer, "hello")
    other = make_application(developer, "other")
    db = make_resource(hello, "db")
    cache = make_resource(hello, "cache", resource_type="redis", state=ResourceState.FAILED)
    route = make_resource(other, "route", resource_type="route", state=ResourceState.REQUESTED)

    def listed(query: str = "") -> list[int]:
        response = api.get(f"/api/resources{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert listed() == [cache.id, db.id, route.id]
    assert listed("?app=hello") == [cache.id, db.id]
    assert listed("?type=redis") == [cache.id]
    assert listed("?state=failed,requested") == [cache.id, route.id]
    assert api.get("/api/resources?state=melted").status_code == 400


def test_detail_has_transitions_and_no_secret(api: APIClient, developer: Any) -> None:
    resource = make_resource(make_application(developer), state=ResourceState.REQUESTED)
    resource.transition(ResourceState.PROVISIONING, actor="engine")
    resource.transition(ResourceState.ACTIVE, reason="ready", actor="engine")

    response = api.get(f"/api/resources/{resource.id}")
    body = response.json()
    assert body["state"] == "active"
    assert body["outputs"] == {"host": "db.internal", "port": 5432}
    assert [(t["from_state"], t["to_state"]) for t in body["transitions"]] == [
        ("requested", "provisioning"),
        ("provisioning", "active"),
    ]
    assert body["transitions"][1]["reason"] == "ready"
    assert "secret_outputs" not in body
    assert b"ENCRYPTED-SECRET-BLOB" not in response.content
    assert b"ENCRYPTED-SECRET-BLOB" not in api.get("/api/resources").content


def test_stats_counts_what_the_user_may_see(api: APIClient, developer: Any, make_user: Any) -> None:
    hello = make_application(developer, "hello")
    make_resource(hello, "db")
    make_resource(hello, "cache", resource_type="redis", state=ResourceState.FAILED)
    running = make_execution(hello, status=ExecutionStatus.RUNNING)
    make_step(running, "a", status=StepStatus.RUNNING)
    make_step(running, "b", position=1, status=StepStatus.PENDING)
    make_execution(hello, status=ExecutionStatus.FAILED)
    theirs = make_application(make_user("bob", team="team-b"), "theirs")
    make_resource(theirs, "db")
    make_step(make_execution(theirs, status=ExecutionStatus.RUNNING), "x", status=StepStatus.RUNNING)

    body = api.get("/api/stats").json()
    assert body["applications"] == 1
    assert body["executions"] == 2
    assert body["executions_by_status"]["running"] == 1
    assert body["executions_by_status"]["failed"] == 1
    assert body["executions_by_status"]["pending"] == 0
    assert body["resources"] == 2
    assert body["resources_by_state"] == {**dict.fromkeys(ResourceState.values, 0), "active": 1, "failed": 1}
    assert body["steps_running"] == 1
    assert body["steps_waiting"] == 0


def test_platform_admin_stats_see_everything(admin_api: APIClient, developer: Any, make_user: Any) -> None:
    make_application(developer, "hello")
    make_application(make_user("bob", team="team-b"), "theirs")
    assert admin_api.get("/api/stats").json()["applications"] == 2
