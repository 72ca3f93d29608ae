"""Team isolation and authentication: other teams' objects are 404 and absent from lists."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.api.factories import (
    HELLO,
    make_application,
    make_execution,
    make_resource,
    make_step,
    post_spec,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_a_objects(developer: Any) -> dict[str, Any]:
    app = make_application(developer, "alpha")
    execution = make_execution(app)
    make_step(execution)
    return {"app": app, "execution": execution, "resource": make_resource(app)}


@pytest.fixture
def team_b_client(make_user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("bob", team="team-b"))
    return client


def test_other_team_gets_404_and_empty_lists(
    team_a_objects: dict[str, Any], team_b_client: APIClient
) -> None:
    execution, resource = team_a_objects["execution"], team_a_objects["resource"]
    for url in (
        "/api/applications/alpha",
        f"/api/workflows/{execution.id}",
        f"/api/workflows/{execution.id}/logs",
        f"/api/resources/{resource.id}",
    ):
        response = team_b_client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
    assert team_b_client.delete("/api/applications/alpha").status_code == 404
    for url in ("/api/applications", "/api/workflows", "/api/resources", "/api/specs"):
        assert team_b_client.get(url).json()["count"] == 0, url
    stats = team_b_client.get("/api/stats").json()
    assert (stats["applications"], stats["executions"], stats["resources"]) == (0, 0, 0)


def test_owning_team_sees_its_objects(team_a_objects: dict[str, Any], api: APIClient) -> None:
    assert api.get("/api/applications").json()["count"] == 1
    assert api.get("/api/workflows").json()["count"] == 1
    assert api.get("/api/resources").json()["count"] == 1
    assert api.get(f"/api/workflows/{team_a_objects['execution'].id}").status_code == 200


def test_platform_admin_sees_every_team(team_a_objects: dict[str, Any], admin_api: APIClient) -> None:
    assert admin_api.get("/api/applications/alpha").status_code == 200
    assert admin_api.get("/api/workflows").json()["count"] == 1
    assert admin_api.get(f"/api/resources/{team_a_objects['resource'].id}").status_code == 200


def test_user_without_a_team_sees_nothing(team_a_objects: dict[str, Any], make_user: Any) -> None:
    client = APIClient()
    client.force_authenticate(make_user("loner", team=None))
    assert client.get("/api/applications").json()["count"] == 0
    assert client.get("/api/workflows").json()["count"] == 0


URLS = [
    ("get", "/api/applications"),
    ("get", "/api/applications/alpha"),
    ("delete", "/api/applications/alpha"),
    ("get", "/api/applications/alpha/revisions"),
    ("get", "/api/specs"),
    ("get", "/api/workflows"),
    ("get", "/api/workflows/wf-1/logs"),
    ("get", "/api/resources"),
    ("get", "/api/resources/1"),
    ("get", "/api/stats"),
]


@pytest.mark.parametrize(("method", "url"), URLS)
def test_anonymous_requests_are_refused_as_problems(method: str, url: str) -> None:
    response = getattr(APIClient(), method)(url)
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"


def test_anonymous_submission_is_refused_and_writes_nothing() -> None:
    from workflows.models import Application

    response = post_spec(APIClient(), HELLO)
    assert response.status_code in (401, 403)
    assert not Application.objects.exists()


def test_session_login_works(developer: Any) -> None:
    client = APIClient()
    assert client.login(username="dev", password="pw-dev")
    assert client.get("/api/applications").status_code == 200
