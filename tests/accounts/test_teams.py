"""Which team a write belongs to: no team is refused, several teams must be named, never a pooled team."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from innominatus.accounts.models import Team
from tests.workflows.api.factories import HELLO, post_spec
from workflows.models import Application, WorkflowExecution

pytestmark = pytest.mark.django_db

# A golden path run for an application that does not exist yet belongs to the team the caller names.
NEW_APP_PATH = "/api/golden-paths/deploy-app/execute"


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _run(client: APIClient, app: str = "shop", query: str = "", **body: Any) -> Any:
    parameters = {"app_name": app}
    return client.post(NEW_APP_PATH + query, {"parameters": parameters, **body}, format="json")


def test_team_less_user_gets_a_clear_403_on_every_kind_of_write(make_user: Any) -> None:
    client = _client(make_user("loner", team=None))
    for response in (post_spec(client, HELLO), _run(client)):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
        body = response.json()
        assert body["detail"] == "you belong to no team; ask a platform admin to add you to one"
        assert body["code"] == "no_team"
        assert body["errors"][0]["path"] == "team"
    assert not Team.objects.exists()
    assert not Application.objects.exists() and not WorkflowExecution.objects.exists()


def test_team_less_users_are_never_pooled(make_user: Any) -> None:
    """One team-less user once deleted another's application through a shared `default` team."""
    owner = make_user("owner", team="team-a")
    assert post_spec(_client(owner), HELLO).status_code == 201
    loner = _client(make_user("loner", team=None))
    assert loner.delete("/api/applications/hello").status_code == 404
    assert Application.objects.filter(name="hello").exists()
    assert not Team.objects.filter(name="default").exists()


def test_golden_path_for_a_new_app_in_two_teams_needs_the_team(developer: Any) -> None:
    Team.objects.create(name="team-b").members.add(developer)
    client = _client(developer)
    ambiguous = _run(client)
    assert ambiguous.status_code == 400
    assert ambiguous.json()["errors"][0] == {
        "path": "team",
        "pointer": "",
        "message": "name the owning team with the team parameter; one of: team-a, team-b",
        "code": "team_required",
        "choices": ["team-a", "team-b"],
    }
    in_body = _run(client, team="team-b")
    assert in_body.status_code == 201, in_body.json()
    assert WorkflowExecution.objects.get(pk=in_body.json()["id"]).team.name == "team-b"
    in_query = _run(client, app="cart", query="?team=team-a")
    assert in_query.status_code == 201, in_query.json()
    assert WorkflowExecution.objects.get(pk=in_query.json()["id"]).team.name == "team-a"


def test_golden_path_team_must_be_the_callers(developer: Any, make_user: Any) -> None:
    make_user("bob", team="team-b")
    client = _client(developer)
    foreign = _run(client, team="team-b")
    assert foreign.status_code == 403
    assert foreign.json()["errors"][0]["code"] == "not_team_member"
    unknown = _run(client, team="team-zz")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["choices"] == ["team-a"]
    invalid = _run(client, team="x" * 101)
    assert invalid.status_code == 400 and invalid.json()["errors"][0]["path"] == "team"
    assert not WorkflowExecution.objects.exists()


def test_golden_path_on_an_existing_app_keeps_its_team(developer: Any) -> None:
    Team.objects.create(name="team-b").members.add(developer)
    assert post_spec(_client(developer), HELLO, team="team-b").status_code == 201
    executions = WorkflowExecution.objects.count()
    conflict = _run(_client(developer), app="hello", team="team-a")
    assert conflict.status_code == 409
    ok = _run(_client(developer), app="hello")
    assert ok.status_code == 201, ok.json()
    assert WorkflowExecution.objects.get(pk=ok.json()["id"]).team.name == "team-b"
    assert WorkflowExecution.objects.count() == executions + 1


def test_platform_admin_names_the_team(platform_admin: Any, make_user: Any) -> None:
    make_user("bob", team="team-b")
    client = _client(platform_admin)
    refused = post_spec(client, HELLO)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["choices"] == ["team-b"]
    created = post_spec(client, HELLO, team="team-b")
    assert created.status_code == 201
    assert created.json()["application"]["team"] == "team-b"
    assert _run(client, team="team-b").status_code == 201


def test_portal_golden_path_offers_the_team_field(developer: Any, plain_static: None) -> None:
    Team.objects.create(name="team-b").members.add(developer)
    client = Client()
    client.force_login(developer)
    page = client.get("/golden-paths/deploy-app")
    assert page.status_code == 200
    assert b'name="team"' in page.content
    form = {"app_name": "shop"}
    ambiguous = client.post("/golden-paths/deploy-app", form)
    assert ambiguous.status_code == 400
    assert b"team-a, team-b" in ambiguous.content
    chosen = client.post("/golden-paths/deploy-app", {**form, "team": "team-b"})
    assert chosen.status_code == 302
    assert WorkflowExecution.objects.get().team.name == "team-b"


def test_portal_deploy_refuses_a_team_less_user(make_user: Any, plain_static: None) -> None:
    client = Client()
    client.force_login(make_user("loner", team=None))
    response = client.post("/deploy", {"spec": HELLO, "action": "deploy"})
    assert response.status_code == 403
    assert b"you belong to no team; ask a platform admin" in response.content
    assert not Application.objects.exists()
