"""Honest states: a render-only deploy says "rendered, not applied" wherever state is reported (API and
the admin), a real deploy says "deployed"/"applied", and deploy_state is one vocabulary with one setter."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.workflows.deploy.helpers import last_execution, sample, submit
from workflows.choices import DeployState, ExecutionOutcome, ExecutionStatus
from workflows.models import Application, ResourceInstance, WorkflowExecution

pytestmark = pytest.mark.django_db(transaction=True)
README = "spec-readme-postgres-dns-route.yaml"


@pytest.fixture
def admin_client(platform_admin: Any, settings: Any) -> Client:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(platform_admin)
    return client


@pytest.mark.usefixtures("platform", "no_cluster")
def test_a_render_only_deploy_says_so_in_the_api(api: APIClient, developer: Any) -> None:
    app = submit(developer, sample(README)).application.name
    body = api.get(f"/api/applications/{app}").json()
    assert (body["deploy_state"], body["deploy_state_label"], body["applied"]) == (
        "rendered",
        "rendered, not applied",
        False,
    )
    listed = api.get("/api/applications").json()["results"][0]
    assert listed["deploy_state"] == "rendered" and listed["applied"] is False
    execution = last_execution(app)
    run = api.get(f"/api/workflows/{execution.pk}").json()
    assert run["status"] == "completed"
    assert (run["outcome"], run["outcome_label"]) == ("rendered_only", "rendered only, nothing applied")
    assert api.get("/api/workflows").json()["results"][0]["outcome"] == "rendered_only"
    db = ResourceInstance.objects.get(app_name=app, resource_name="db")
    resource = api.get(f"/api/resources/{db.pk}").json()
    assert resource["state"] == "active"  # the lifecycle state, as the original's API has it
    assert (resource["display_state"], resource["state_label"], resource["applied"]) == (
        "rendered",
        "rendered, not applied",
        False,
    )


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_a_real_deploy_says_applied(api: APIClient, developer: Any) -> None:
    app = submit(developer, sample(README)).application.name
    body = api.get(f"/api/applications/{app}").json()
    assert (body["deploy_state"], body["applied"]) == ("deployed", True)
    assert body["deploy_state_label"] == "deployed (applied to the cluster)"
    assert api.get(f"/api/workflows/{last_execution(app).pk}").json()["outcome"] == "applied"
    db = ResourceInstance.objects.get(app_name=app, resource_name="db")
    assert (db.applied, db.display_state, db.state_label) == (True, "active", "active")


@pytest.mark.usefixtures("platform", "no_cluster")
def test_the_admin_shows_rendered_not_applied(developer: Any, admin_client: Client) -> None:
    app = submit(developer, sample(README)).application.name
    page = admin_client.get(reverse("admin:workflows_application_changelist")).content.decode()
    assert "rendered, not applied" in page
    detail = admin_client.get(
        reverse("admin:workflows_application_change", args=[Application.objects.get(name=app).pk])
    ).content.decode()
    assert "rendered, not applied" in detail
    runs = admin_client.get(reverse("admin:workflows_workflowexecution_changelist")).content.decode()
    assert "rendered only, nothing applied" in runs
    resources = reverse("admin:workflows_resourceinstance_changelist")
    listed = admin_client.get(resources).content.decode()
    assert "rendered, not applied" in listed and "applied to the cluster" in listed  # the filter
    rendered = admin_client.get(resources + "?applied=no").content.decode()
    applied = admin_client.get(resources + "?applied=yes").content.decode()
    assert "db" in rendered and "0 resource instances" in applied


def test_deploy_state_has_one_vocabulary_and_one_setter(make_user: Any) -> None:
    from innominatus.accounts.models import Team

    team = Team.objects.create(name="team-x")
    app = Application.objects.create(name="shop", team=team)
    assert app.deploy_state_label == "not deployed yet" and not app.is_applied
    with pytest.raises(ValueError):
        Application.set_deploy_state(app.pk, "rendered, not applied")
    assert Application.set_deploy_state(app.pk, DeployState.DEPLOYING, "deploying revision 1") == 1
    # only_from limits the change: a failed run does not overwrite a state it did not cause.
    assert Application.set_deploy_state(app.pk, DeployState.FAILED, only_from=(DeployState.UNDEPLOYING,)) == 0
    assert Application.objects.get(pk=app.pk).deploy_state == DeployState.DEPLOYING


def test_a_deploy_waiting_for_approval_says_so(make_user: Any) -> None:
    from innominatus.accounts.models import Team

    team = Team.objects.create(name="team-x")
    app = Application.objects.create(name="shop", team=team)
    Application.set_deploy_state(app.pk, DeployState.DEPLOYING)
    execution = WorkflowExecution.objects.create(
        app_name="shop", application=app, workflow_name="deploy-app", definition={}
    )
    assert execution.outcome == ExecutionOutcome.IN_PROGRESS
    execution.start()
    execution.transition(ExecutionStatus.WAITING)
    assert execution.outcome == ExecutionOutcome.WAITING_FOR_APPROVAL
    state = Application.objects.get(pk=app.pk)
    assert (state.deploy_state, state.deploy_state_label) == ("waiting_for_approval", "waiting for approval")
    execution.transition(ExecutionStatus.RUNNING)
    assert Application.objects.get(pk=app.pk).deploy_state == DeployState.DEPLOYING
    execution.finish(ExecutionStatus.COMPLETED)
    assert execution.outcome == ExecutionOutcome.COMPLETED  # no step touched a cluster
    assert WorkflowExecution.objects.get(pk=execution.pk).outcome_label == "completed (no cluster changes)"


@pytest.mark.usefixtures("platform", "no_cluster")
def test_a_deploy_whose_only_step_rendered_is_rendered_only(developer: Any) -> None:
    # The last step's result is stored after the scheduler decides: the outcome must not miss it.
    app = submit(developer, sample("compose-01-hello-score.yaml")).application.name
    execution = last_execution(app)
    assert list(execution.steps.values_list("name", flat=True)) == ["deploy"]
    assert (execution.status, execution.outcome) == ("completed", "rendered_only")
