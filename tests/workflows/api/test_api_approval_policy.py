"""Approval gates with `four_eyes` and `approvers`: the decision service refuses everyone else with 403."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from innominatus.accounts import config
from innominatus.accounts.models import Team
from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.loader import load_workflow
from workflows.models import WorkflowExecution
from workflows.services import executions
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.django_db(transaction=True)

GATED = """
metadata: {name: gated}
steps:
  - {name: build, type: noop}
  - name: gate
    type: approval
    config: {four_eyes: true, approvers: [role:release-manager, team:security]}
  - {name: after, type: noop}
"""
FOUR_EYES = GATED.replace(", approvers: [role:release-manager, team:security]", "")


def _launch(text: str, user: Any) -> WorkflowExecution:
    definition = load_workflow(text, known_step_types=known_step_types())
    team = Team.objects.get(name="team-a")
    return executions.launch_execution(definition=definition, app_name="hello", team=team, user=user)


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _gate(execution: WorkflowExecution) -> str:
    return str(execution.steps.get(name="gate").status)


def test_launcher_may_not_approve_a_four_eyes_gate(developer: Any, make_user: Any) -> None:
    execution = _launch(FOUR_EYES, developer)
    assert _gate(execution) == StepStatus.WAITING
    own = _client(developer).post(f"/api/workflows/{execution.pk}/approve", {}, format="json")
    assert own.status_code == 403
    assert own["Content-Type"] == "application/problem+json"
    assert own.json()["code"] == "decision_not_allowed"
    assert "someone other than the person who launched the run" in own.json()["detail"]
    assert _gate(execution) == StepStatus.WAITING
    colleague = make_user("colleague", team="team-a")
    ok = _client(colleague).post(f"/api/workflows/{execution.pk}/approve", {"comment": "lgtm"}, format="json")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["status"] == ExecutionStatus.COMPLETED
    gate = execution.steps.get(name="gate")
    assert gate.decided_by == colleague


def test_launcher_may_still_reject_a_four_eyes_gate(developer: Any) -> None:
    execution = _launch(FOUR_EYES, developer)
    response = _client(developer).post(
        f"/api/workflows/{execution.pk}/reject", {"comment": "oops"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == ExecutionStatus.FAILED


def test_only_listed_roles_or_teams_decide(
    developer: Any, make_user: Any, settings: Any, tmp_path: Any
) -> None:
    admin_config = tmp_path / "admin-config.yaml"
    admin_config.write_text(
        "rbac:\n  roles:\n    - name: release-manager\n      permissions: ['workflows:*']\n"
    )
    settings.ADMIN_CONFIG = str(admin_config)
    config.reload()
    execution = _launch(GATED, developer)
    teammate = make_user("teammate", team="team-a")
    for verb in ("approve", "reject"):
        refused = _client(teammate).post(f"/api/workflows/{execution.pk}/{verb}", {}, format="json")
        assert refused.status_code == 403
        assert "only role release-manager or team security may decide" in refused.json()["detail"]
    assert _gate(execution) == StepStatus.WAITING
    manager = make_user("manager", team="team-a", role="release-manager")
    assert Group.objects.filter(name="release-manager", user=manager).exists()
    approved = _client(manager).post(f"/api/workflows/{execution.pk}/approve", {}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == ExecutionStatus.COMPLETED


def test_listed_team_member_decides_and_the_launcher_never_approves(
    developer: Any, make_user: Any, platform_admin: Any
) -> None:
    execution = _launch(GATED, developer)
    Team.objects.create(name="security").members.add(developer)
    # In the listed team, but the launcher: four eyes still refuses.
    assert (
        _client(developer).post(f"/api/workflows/{execution.pk}/approve", {}, format="json").status_code
        == 403
    )
    # Platform admins are not exempt from a gate that lists its approvers.
    assert (
        _client(platform_admin).post(f"/api/workflows/{execution.pk}/approve", {}, format="json").status_code
        == 403
    )
    reviewer = make_user("reviewer", team="team-a")
    Team.objects.get(name="security").members.add(reviewer)
    assert (
        _client(reviewer).post(f"/api/workflows/{execution.pk}/approve", {}, format="json").status_code == 200
    )


def test_portal_shows_the_refusal(developer: Any, settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    execution = _launch(FOUR_EYES, developer)
    client = Client()
    client.force_login(developer)
    response = client.post(f"/workflows/{execution.pk}/approve", {"step": "gate"}, follow=True)
    assert b"someone other than the person who launched the run" in response.content
    assert _gate(execution) == StepStatus.WAITING
