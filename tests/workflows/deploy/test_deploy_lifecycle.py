"""An application's life on the cluster: delete leaves nothing behind, rollback redeploys an earlier spec,
render-only mode says so, and a dry run shows the plan."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.fakekube import FakeKube
from tests.workflows.deploy.helpers import application, failure_report, last_execution, ns, sample, submit
from workflows.choices import ExecutionStatus, ResourceState
from workflows.models import Application, ManifestSet, ResourceInstance, WorkflowExecution
from workflows.services import delete_application
from workflows.services.deployments import rollback_application

pytestmark = pytest.mark.django_db(transaction=True)
README = "spec-readme-postgres-dns-route.yaml"


def labelled(fake: FakeKube, app: str, namespace: str) -> list[str]:
    """Every object in the fake cluster that belongs to `app` (by namespace or label)."""
    found = []
    for obj in fake.objects():
        metadata = obj["metadata"]
        labels = metadata.get("labels") or {}
        if (
            metadata.get("namespace") == namespace
            or metadata.get("name") == namespace
            or labels.get("innominatus.dev/app") == app
            or labels.get("innominatus.io/application") == app
        ):
            found.append(f"{obj['kind']} {metadata.get('namespace', '')}/{metadata['name']}")
    return found


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_deleting_the_application_removes_everything_it_owned(developer: Any, fake_kube: FakeKube) -> None:
    app = submit(developer, sample(README)).application.name
    assert last_execution(app).status == ExecutionStatus.COMPLETED, failure_report(last_execution(app))
    namespace = ns(app)
    assert namespace == f"team-a-{app}"
    assert fake_kube.get_object("Namespace", namespace) is not None
    assert len(labelled(fake_kube, app, namespace)) > 5

    delete_application(application=Application.objects.get(name=app), user=developer)

    undeploy = last_execution(app, "undeploy-app")
    assert undeploy.status == ExecutionStatus.COMPLETED, failure_report(undeploy)
    assert undeploy.application_id is None and undeploy.app_name == app
    assert labelled(fake_kube, app, namespace) == []
    assert set(ResourceInstance.objects.filter(app_name=app).values_list("state", flat=True)) == {
        "terminated"
    }
    assert WorkflowExecution.objects.filter(app_name=app, workflow_name="deploy-app").exists()
    names = [s.name for s in undeploy.steps.order_by("position")]
    assert names[0] == "undeploy-workload" and names[-1] == "remove-namespace"
    # The route refers to the dns name, so it goes first.
    route = undeploy.steps.get(name="deprovision-route")
    assert undeploy.steps.get(name="deprovision-dns").depends_on == ["undeploy-workload", "deprovision-route"]
    assert route.status == "completed"


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_rollback_makes_the_earlier_spec_live_again(developer: Any, fake_kube: FakeKube) -> None:
    first = sample("compose-01-hello-score.yaml")
    app = submit(developer, first).application.name
    submit(developer, first.replace("image: busybox", "image: busybox:1.36"))

    def image() -> str:
        pod = fake_kube.get_object("Deployment", app, ns(app))["spec"]["template"]["spec"]
        return str(pod["containers"][0]["image"])

    assert image() == "busybox:1.36"

    revision, execution = rollback_application(application=application(app), number=1, user=developer)
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    assert (revision.number, revision.rolled_back_from) == (3, 1)
    assert application(app).current_revision_id == revision.pk
    assert image() == "busybox"
    latest = ManifestSet.objects.filter(app_name=app).order_by("-id").first()
    assert latest.revision_number == 3 and latest.applied


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_rollback_and_manifests_over_the_api(api: APIClient, developer: Any, fake_kube: FakeKube) -> None:
    first = sample("compose-01-hello-score.yaml")
    app = submit(developer, first).application.name
    submit(developer, first.replace("image: busybox", "image: busybox:1.36"))
    body = api.get(f"/api/applications/{app}/manifests").json()
    assert body["revision_number"] == 2 and body["applied"] is True
    assert [m["kind"] for m in body["manifests"]] == ["Namespace", "Deployment"]
    assert api.get(f"/api/applications/{app}/manifests?revision=1").json()["revision_number"] == 1

    answer = api.post(f"/api/applications/{app}/rollback", {"revision": 1}, format="json")
    assert answer.status_code == 202, answer.json()
    assert answer.json()["revision"]["number"] == 3
    assert WorkflowExecution.objects.get(pk=answer.json()["execution"]).status == ExecutionStatus.COMPLETED
    assert api.post(f"/api/applications/{app}/rollback", {"revision": 9}, format="json").status_code == 404
    assert api.post(f"/api/applications/{app}/rollback", {}, format="json").status_code == 400
    assert api.get("/api/applications/nope/manifests").status_code == 404


@pytest.mark.usefixtures("platform", "no_cluster")
def test_without_a_cluster_a_deploy_is_rendered_not_applied(developer: Any) -> None:
    app = submit(developer, sample(README)).application.name
    execution = last_execution(app)
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    state = application(app)
    assert state.deploy_state == "rendered" and state.deploy_state_label == "rendered, not applied"
    assert not state.is_applied and execution.outcome == "rendered_only"
    assert "KUBECONFIG is not set" in state.deploy_message
    stored = ManifestSet.objects.get(app_name=app)
    assert not stored.applied and "KUBECONFIG" in stored.reason
    assert {m["kind"] for m in stored.manifests} == {"Namespace", "Secret", "Service", "Deployment"}
    deploy = execution.steps.get(name="deploy")
    assert deploy.outputs["applied"] is False and deploy.outputs["render_only"] is True
    db = ResourceInstance.objects.get(app_name=app, resource_name="db")
    assert db.state == ResourceState.ACTIVE and db.metadata["applied"] is False
    assert (db.applied, db.display_state, db.state_label) == (False, "rendered", "rendered, not applied")
    assert db.transitions.last().reason.startswith("rendered, not applied")
    lines = "\n".join(execution.logs.values_list("message", flat=True))
    assert "render-only mode: nothing was applied" in lines


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_dry_run_shows_resource_actions_and_a_manifest_diff(api: APIClient, developer: Any) -> None:
    text = sample(README)
    fresh = api.post("/api/applications?dry_run=true", data=text, content_type="application/yaml").json()
    plan = fresh["deployment"]
    assert {(r["name"], r["action"]) for r in plan["resources"]} == {
        ("db", "create"),
        ("dns", "create"),
        ("route", "create"),
    }
    assert "+  kind: Deployment" in plan["manifest_diff"] and plan["deployed_revision"] is None
    assert "<pending:resources.db.username>" not in plan["manifest_diff"]
    assert not Application.objects.exists() and not ResourceInstance.objects.exists()

    submit(developer, text)
    changed = text.replace("sample-app-gif:sha-2533037", "sample-app-gif:v2").replace("path: /", "path: /v2")
    plan = api.post("/api/applications?dry_run=true", data=changed, content_type="application/yaml").json()[
        "deployment"
    ]
    actions = {r["name"]: r["action"] for r in plan["resources"]}
    assert actions == {"db": "keep", "dns": "keep", "route": "update"}
    assert "-          image: ghcr.io/score-spec/sample-app-gif:sha-2533037" in plan["manifest_diff"]
    assert "+          image: ghcr.io/score-spec/sample-app-gif:v2" in plan["manifest_diff"]
    assert plan["deployed_revision"] == 1
    route = ResourceInstance.objects.get(resource_name="route")
    assert route.params["path"] == "/" and route.state == ResourceState.ACTIVE


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_the_admin_offers_the_same_rollback(
    developer: Any, platform_admin: Any, settings: Any, fake_kube: FakeKube
) -> None:
    from django.test import Client
    from django.urls import reverse

    from workflows.models import DeploymentRevision

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    first = sample("compose-01-hello-score.yaml")
    app = submit(developer, first).application.name
    submit(developer, first.replace("image: busybox", "image: busybox:1.36"))
    target = DeploymentRevision.objects.get(application__name=app, number=1)
    client = Client()
    client.force_login(platform_admin)
    response = client.post(
        reverse("admin:workflows_deploymentrevision_changelist"),
        {"action": "rollback_to_revision", "_selected_action": [target.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert b"revision 3 re-deploys revision 1" in response.content
    assert application(app).current_revision.rolled_back_from == 1
    pod = fake_kube.get_object("Deployment", app, ns(app))["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "busybox"


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_undeploy_and_deploy_golden_paths(developer: Any, fake_kube: FakeKube) -> None:
    from workflows.services.goldenpaths import launch_golden_path

    app = submit(developer, sample(README)).application.name
    namespace = ns(app)
    undeploy = launch_golden_path(name="undeploy-app", parameters={"app_name": app}, user=developer)
    undeploy.refresh_from_db()
    assert undeploy.status == ExecutionStatus.COMPLETED, failure_report(undeploy)
    assert labelled(fake_kube, app, namespace) == []
    assert application(app).deploy_state == "undeployed"
    assert set(ResourceInstance.objects.filter(app_name=app).values_list("state", flat=True)) == {
        "terminated"
    }

    deploy = launch_golden_path(name="deploy-app", parameters={"app_name": app}, user=developer)
    deploy.refresh_from_db()
    assert deploy.status == ExecutionStatus.COMPLETED, failure_report(deploy)
    assert deploy.outputs == {"namespace": namespace, "applied": "True"}
    assert application(app).deploy_state == "deployed"
    live = ResourceInstance.objects.filter(app_name=app).exclude(state="terminated")
    assert sorted(live.values_list("resource_name", "state")) == [
        ("db", "active"),
        ("dns", "active"),
        ("route", "active"),
    ]
    assert fake_kube.get_object("StatefulSet", "sample-db", ns(app)) is not None
    assert fake_kube.get_object("Ingress", "sample-route", ns(app)) is not None
