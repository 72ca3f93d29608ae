"""Shared resources and links across teams: a team's `id` is its own, platform-shared resources are
bindable but not changeable, and `service-port` reaches only the team's applications."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.fakekube import FakeKube
from tests.workflows.deploy.helpers import failure_report, last_execution, sample, submit
from workflows.choices import ExecutionStatus, ResourceScope, ResourceState
from workflows.models import Application, ResourceBinding, ResourceInstance
from workflows.score import ScoreValidationError
from workflows.services import delete_application
from workflows.services.deployments import launch_deploy
from workflows.services.goldenpaths import launch_golden_path
from workflows.services.resource_values import stored_secrets

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_kubeconfig")]

SHARED_OBJECTS = (
    ("Secret", "postgres-shared-db"),
    ("Service", "postgres-shared-db"),
    ("StatefulSet", "postgres-shared-db"),
)


def spec(app: str, db: str = "    type: postgres\n    id: shared-db\n") -> str:
    resources = f"resources:\n  db:\n{db}" if db else ""
    return (
        f"apiVersion: score.dev/v1b1\nmetadata:\n  name: {app}\ncontainers:\n  main:\n    image: nginx:1.27\n"
        + ("    variables:\n      DB_HOST: ${resources.db.host}\n" if db else "")
        + resources
    )


@pytest.fixture
def api_for() -> Callable[[Any], APIClient]:
    def client(user: Any) -> APIClient:
        api = APIClient()
        api.force_authenticate(user)
        return api

    return client


def deployed(user: Any, text: str) -> Application:
    result = submit(user, text)
    execution = last_execution(result.application.name)
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    return Application.objects.get(pk=result.application.pk)


def live(app: str, name: str = "db") -> ResourceInstance:
    binding = ResourceBinding.objects.select_related("resource").get(app_name=app, resource_name=name)
    return binding.resource


def objects(fake: FakeKube, namespace: str) -> dict[str, Any]:
    """Every object of the shared database in `namespace`, as stored (uid, resourceVersion and all)."""
    return {kind: copy.deepcopy(fake.get_object(kind, name, namespace)) for kind, name in SHARED_OBJECTS}


@pytest.mark.usefixtures("platform")
def test_two_teams_get_two_shared_db_instances_and_b_never_touches_a(
    make_user: Callable[..., Any], fake_kube: FakeKube
) -> None:
    dev_a, dev_b = make_user("dev-a", team="team-a"), make_user("dev-b", team="team-b")
    deployed(dev_a, spec("shop-a"))
    deployed(dev_a, spec("shop-a2"))
    mine = live("shop-a")
    assert live("shop-a2").pk == mine.pk  # shared within the team
    before_row = (mine.state, mine.params, stored_secrets(mine), mine.metadata)
    before_objects = objects(fake_kube, "innominatus-shared-team-a")
    assert all(before_objects.values())

    deployed(dev_b, spec("shop-b"))
    theirs = live("shop-b")
    assert theirs.pk != mine.pk
    assert (mine.scope, mine.team.name, theirs.scope, theirs.team.name) == (
        "team",
        "team-a",
        "team",
        "team-b",
    )
    assert stored_secrets(theirs)["password"] != stored_secrets(mine)["password"]
    assert all(objects(fake_kube, "innominatus-shared-team-b").values())
    assert theirs.outputs["host"] == "postgres-shared-db.innominatus-shared-team-b.svc.cluster.local"

    # Team B changes its params, drops the resource, deletes its application: A's row and objects stay.
    deployed(dev_b, spec("shop-b", '    type: postgres\n    id: shared-db\n    params: {version: "15"}\n'))
    b_set = fake_kube.get_object("StatefulSet", "postgres-shared-db", "innominatus-shared-team-b")
    assert b_set["spec"]["template"]["spec"]["containers"][0]["image"] == "postgres:15-alpine"
    deployed(dev_b, spec("shop-b", db=""))
    assert ResourceInstance.objects.get(pk=theirs.pk).state == ResourceState.TERMINATED
    assert fake_kube.get_object("StatefulSet", "postgres-shared-db", "innominatus-shared-team-b") is None
    deployed(dev_b, spec("shop-b"))
    delete_application(application=Application.objects.get(name="shop-b"), user=dev_b)

    mine.refresh_from_db()
    assert (mine.state, mine.params, stored_secrets(mine), mine.metadata) == before_row
    assert objects(fake_kube, "innominatus-shared-team-a") == before_objects
    assert ResourceInstance.objects.filter(team__name="team-a", resource_id="shared-db").count() == 1


SHARED_CONFIG = {
    "deploy": {"baseDomain": "apps.test"},
    "sharedResources": [
        {"type": "postgres", "id": "shared-db", "params": {"version": "16"}, "teams": ["team-a", "team-b"]},
    ],
}


def test_platform_shared_resource_is_bindable_but_not_changeable(
    make_user: Callable[..., Any], fake_kube: FakeKube, admin_config: Callable[[dict[str, Any]], Path]
) -> None:
    admin_config(SHARED_CONFIG)
    dev_a, dev_b = make_user("dev-a", team="team-a"), make_user("dev-b", team="team-b")
    deployed(dev_a, spec("shop-a"))
    deployed(dev_b, spec("shop-b", '    type: postgres\n    id: shared-db\n    params: {version: "16"}\n'))
    shared = live("shop-a")
    assert live("shop-b").pk == shared.pk
    assert (shared.scope, shared.team, shared.application) == (ResourceScope.PLATFORM, None, None)
    assert shared.outputs["host"] == "postgres-shared-db.innominatus-shared.svc.cluster.local"
    before = objects(fake_kube, "innominatus-shared")
    assert all(before.values())

    with pytest.raises(ScoreValidationError) as caught:
        submit(dev_b, spec("shop-b", '    type: postgres\n    id: shared-db\n    params: {version: "15"}\n'))
    assert [(p.path, p.code) for p in caught.value.problems] == [
        ("resources.db.params", "platform-resource-params")
    ]

    # A developer cannot rotate its password either: that would change it for every team.
    password = stored_secrets(shared)["password"]
    rotation = launch_golden_path(
        name="db-lifecycle", parameters={"app_name": "shop-a", "operation": "rotate-password"}, user=dev_a
    )
    rotation.refresh_from_db()
    assert rotation.status == ExecutionStatus.FAILED
    assert "shared by the platform; only a platform admin may regenerate" in failure_report(rotation)
    assert stored_secrets(ResourceInstance.objects.get(pk=shared.pk))["password"] == password

    # Dropping it from a spec, or deleting the application, only unbinds: the last user too.
    deployed(dev_b, spec("shop-b", db=""))
    delete_application(application=Application.objects.get(name="shop-a"), user=dev_a)
    shared.refresh_from_db()
    assert shared.state == ResourceState.ACTIVE and not shared.bindings.exists()
    assert objects(fake_kube, "innominatus-shared") == before

    # Binding again finds the same instance, with the same credentials.
    deployed(dev_a, spec("shop-a"))
    assert live("shop-a").pk == shared.pk


def test_platform_shared_resource_is_refused_to_teams_it_is_not_shared_with(
    make_user: Callable[..., Any], admin_config: Callable[[dict[str, Any]], Path]
) -> None:
    admin_config(SHARED_CONFIG)
    outsider = make_user("dev-c", team="team-c")
    with pytest.raises(ScoreValidationError) as caught:
        submit(outsider, spec("shop-c"))
    assert [(p.path, p.code) for p in caught.value.problems] == [
        ("resources.db.id", "platform-resource-not-shared")
    ]
    assert not Application.objects.filter(name="shop-c").exists()


@pytest.mark.usefixtures("platform")
def test_service_port_to_another_teams_workload_is_refused(
    make_user: Callable[..., Any], api_for: Callable[[Any], Any]
) -> None:
    dev_a, dev_b = make_user("dev-a", team="team-a"), make_user("dev-b", team="team-b")
    deployed(dev_a, sample("compose-08-service-port-resource-scoreA.yaml"))
    response = api_for(dev_b).post(
        "/api/applications",
        data=sample("compose-08-service-port-resource-scoreB.yaml"),
        content_type="application/yaml",
    )
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [(e["path"], e["code"]) for e in errors] == [
        ("resources.dependency.params.workload", "workload-of-another-team")
    ]
    assert "not an application of team 'team-b'" in errors[0]["message"]
    assert not Application.objects.filter(name="workload-b").exists()


@pytest.mark.usefixtures("platform")
def test_service_port_resolves_only_within_the_team_when_it_runs(
    make_user: Callable[..., Any], fake_kube: FakeKube
) -> None:
    # Accepted while no workload-a existed; when team A then creates one, B's link must not reach it.
    dev_a, dev_b = make_user("dev-a", team="team-a"), make_user("dev-b", team="team-b")
    result = submit(dev_b, sample("compose-08-service-port-resource-scoreB.yaml"))
    assert last_execution("workload-b").status == ExecutionStatus.FAILED
    deployed(dev_a, sample("compose-08-service-port-resource-scoreA.yaml"))
    application = Application.objects.get(name="workload-b")
    assert application.current_revision is not None
    launch_deploy(application=application, revision=application.current_revision, user=dev_b)
    execution = last_execution("workload-b")
    assert execution.pk != result.execution.pk
    assert execution.status == ExecutionStatus.FAILED
    link = live("workload-b", "dependency")
    assert "workload 'workload-a' is not an application with service ports" in link.error_message
    assert fake_kube.get_object("Deployment", "workload-b", "workload-b") is None


@pytest.mark.usefixtures("platform")
def test_two_applications_of_a_team_place_their_own_shared_resources_in_the_team_namespace(
    make_user: Callable[..., Any], fake_kube: FakeKube
) -> None:
    """The team's shared namespace belongs to the team, not to whichever application created it first."""
    dev = make_user("alice", team="team-a")
    deployed(dev, spec("shop-a"))
    deployed(dev, spec("shop-a2", "    type: redis\n    id: team-cache\n"))
    assert live("shop-a2").outputs["host"].endswith(".innominatus-shared-team-a.svc.cluster.local")
    first = Application.objects.get(name="shop-a")
    delete_application(application=first, user=dev)
    assert fake_kube.get_object("Namespace", "innominatus-shared-team-a") is not None
    deployed(dev, spec("shop-a3", "    type: postgres\n    id: team-db-2\n"))
    assert live("shop-a3").outputs["host"].endswith(".innominatus-shared-team-a.svc.cluster.local")
