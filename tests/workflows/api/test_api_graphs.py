"""Graph export: JSON, DOT and SVG of an execution's steps and of an application, team-scoped."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.api.factories import make_application, make_execution, make_resource, make_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def execution(developer: Any) -> Any:
    app = make_application(developer, "alpha")
    run = make_execution(app)
    make_step(run, "provision-db", position=0)
    route = make_step(run, "provision-route", position=1)
    deploy = make_step(run, "deploy", position=2, status="running")
    route.depends_on = ["provision-db"]
    route.save(update_fields=["depends_on"])
    deploy.depends_on = ["provision-db", "provision-route"]
    deploy.save(update_fields=["depends_on"])
    make_resource(app, "db")
    return run


def test_execution_graph_as_json(api: APIClient, execution: Any) -> None:
    response = api.get(f"/api/workflows/{execution.pk}/graph")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert [node["id"] for node in body["nodes"]] == ["provision-db", "provision-route", "deploy"]
    assert body["nodes"][2] == {"id": "deploy", "label": "deploy", "kind": "noop", "status": "running"}
    assert body["edges"] == [
        {"from": "provision-db", "to": "provision-route"},
        {"from": "provision-db", "to": "deploy"},
        {"from": "provision-route", "to": "deploy"},
    ]


def test_execution_graph_as_dot_and_svg(api: APIClient, execution: Any) -> None:
    dot = api.get(f"/api/workflows/{execution.pk}/graph?format=dot")
    assert dot.status_code == 200
    assert dot["Content-Type"].startswith("text/vnd.graphviz")
    assert dot.content.decode().startswith('digraph "Steps of')
    svg = api.get(f"/api/workflows/{execution.pk}/graph?format=svg")
    assert svg.status_code == 200
    assert svg["Content-Type"].startswith("image/svg+xml")
    assert svg.content.decode().startswith("<svg") and 'data-node="provision-route"' in svg.content.decode()


def test_application_graph(api: APIClient, execution: Any) -> None:
    body = api.get("/api/applications/alpha/graph").json()
    ids = [node["id"] for node in body["nodes"]]
    assert ids[0] == "app:alpha"
    assert "resource:db" in ids and any(node["kind"] == "container" for node in body["nodes"])
    # HELLO's container refers to the db through ${resources.db.…}.
    assert {"from": "container:main", "to": "resource:db"} in body["edges"]
    svg = api.get("/api/applications/alpha/graph?format=svg")
    assert svg.status_code == 200 and b'data-node="resource:db"' in svg.content


def test_format_decides_whatever_the_accept_header(api: APIClient, execution: Any) -> None:
    response = api.get(f"/api/workflows/{execution.pk}/graph?format=svg", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    response = api.get(f"/api/workflows/{execution.pk}/graph", HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")


def test_unknown_format_is_a_problem(api: APIClient, execution: Any) -> None:
    response = api.get(f"/api/workflows/{execution.pk}/graph?format=png")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0] == {
        "path": "format",
        "message": "unknown format 'png'",
        "code": "invalid_choice",
    }


def test_other_teams_get_404_in_every_format(make_user: Any, execution: Any) -> None:
    client = APIClient()
    client.force_authenticate(make_user("bob", team="team-b"))
    for fmt in ("json", "dot", "svg"):
        for url in (f"/api/workflows/{execution.pk}/graph", "/api/applications/alpha/graph"):
            response = client.get(f"{url}?format={fmt}")
            assert response.status_code == 404, (url, fmt)
            assert response["Content-Type"] == "application/problem+json"
    assert APIClient().get(f"/api/workflows/{execution.pk}/graph").status_code in (401, 403)
