"""Execution actions (cancel, retry, approve, reject) and golden paths over the API."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.loader import load_workflow
from workflows.models import EphemeralEnvironment, WorkflowExecution
from workflows.services import executions
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.django_db(transaction=True)

GATED = """
metadata: {name: gated}
steps:
  - {name: build, type: noop}
  - {name: gate, type: approval}
  - {name: after, type: noop}
"""


def launch(text: str, user: Any) -> WorkflowExecution:
    from innominatus.accounts.models import Team

    definition = load_workflow(text, known_step_types=known_step_types())
    team = Team.objects.get(name="team-a")
    return executions.launch_execution(definition=definition, app_name="hello", team=team, user=user)


def test_approve_resumes_a_waiting_execution_and_records_who(api: APIClient, developer: Any) -> None:
    execution = launch(GATED, developer)
    response = api.get(f"/api/workflows/{execution.pk}")
    assert response.json()["status"] == ExecutionStatus.WAITING
    response = api.post(f"/api/workflows/{execution.pk}/approve", {"comment": "go"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == ExecutionStatus.COMPLETED
    gate = next(step for step in body["steps"] if step["name"] == "gate")
    assert gate["status"] == StepStatus.COMPLETED
    again = api.post(f"/api/workflows/{execution.pk}/approve", {}, format="json")
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"


def test_reject_fails_the_execution_with_the_comment(api: APIClient, developer: Any) -> None:
    execution = launch(GATED, developer)
    response = api.post(f"/api/workflows/{execution.pk}/reject", {"comment": "no"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == ExecutionStatus.FAILED
    assert "no" in response.json()["error_message"]


def test_cancel_then_retry(api: APIClient, developer: Any) -> None:
    execution = launch(GATED, developer)
    cancelled = api.post(f"/api/workflows/{execution.pk}/cancel", {"comment": "wrong branch"}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == ExecutionStatus.CANCELLED
    # The documented shape: the step counts of a list row are in an action's answer too.
    assert cancelled.json()["steps_total"] == execution.steps.count() == cancelled.json()["steps_finished"]
    assert api.post(f"/api/workflows/{execution.pk}/cancel", {"comment": 0}, format="json").status_code == 400
    retried = api.post(f"/api/workflows/{execution.pk}/retry")
    assert retried.json()["steps_total"] == execution.steps.count()
    assert retried.status_code == 201
    retry = WorkflowExecution.objects.get(pk=retried.json()["id"])
    assert retry.parent_id == execution.pk
    assert retry.status == ExecutionStatus.WAITING
    assert retry.steps.get(name="build").skip_reason.startswith("reused")


def test_actions_on_another_teams_execution_are_not_found(api: APIClient, make_user: Any) -> None:
    other = make_user("other", team="team-b")
    from innominatus.accounts.models import Team

    definition = load_workflow(GATED, known_step_types=known_step_types())
    execution = executions.launch_execution(
        definition=definition, app_name="theirs", team=Team.objects.get(name="team-b"), user=other
    )
    assert api.post(f"/api/workflows/{execution.pk}/cancel", {}, format="json").status_code == 404


def test_golden_path_catalogue_and_validated_launch(api: APIClient) -> None:
    listing = api.get("/api/golden-paths")
    assert listing.status_code == 200
    names = {item["name"] for item in listing.json()}
    assert "ephemeral-env" in names
    detail = api.get("/api/golden-paths/ephemeral-env").json()
    assert {p["name"] for p in detail["parameters"]} >= {"app_name", "environment", "ttl"}
    bad = api.post(
        "/api/golden-paths/ephemeral-env/execute",
        {"parameters": {"app_name": "Not Valid!", "ttl": "forever"}},
        format="json",
    )
    assert bad.status_code == 400
    paths = {error["path"] for error in bad.json()["errors"]}
    assert any("app_name" in path for path in paths) and any("ttl" in path for path in paths)
    assert WorkflowExecution.objects.count() == 0
    # An environment belongs to an existing application of the caller's team.
    missing = api.post(
        "/api/golden-paths/ephemeral-env/execute",
        {"parameters": {"app_name": "shop", "environment": "pr-12", "ttl": "2h"}},
        format="json",
    )
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["path"] == "parameters.app_name"
    from innominatus.accounts.models import Team
    from workflows.models import Application, NamespaceClaim

    Application.objects.create(name="shop", team=Team.objects.get(name="team-a"))
    ok = api.post(
        "/api/golden-paths/ephemeral-env/execute",
        {"parameters": {"app_name": "shop", "environment": "pr-12", "ttl": "2h"}},
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    assert NamespaceClaim.objects.get(app_name="shop", environment="pr-12").name == "team-a-shop-pr-12"
    execution = WorkflowExecution.objects.get(pk=ok.json()["id"])
    assert execution.trigger == "golden-path:ephemeral-env"
    environment = EphemeralEnvironment.objects.get()
    assert environment.name == "pr-12"
    assert 7100 < (environment.expires_at - execution.created_at).total_seconds() <= 7200
    assert api.get("/api/golden-paths/nope").status_code == 404


def test_golden_path_cannot_target_another_teams_application(api: APIClient, make_user: Any) -> None:
    from innominatus.accounts.models import Team
    from workflows.models import Application

    Application.objects.create(name="theirs", team=Team.objects.create(name="team-z"))
    response = api.post(
        "/api/golden-paths/ephemeral-env/execute", {"parameters": {"app_name": "theirs"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "parameters.app_name"
    assert WorkflowExecution.objects.count() == 0
