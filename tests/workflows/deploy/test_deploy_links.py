"""Workloads that share or point at each other: a shared redis by id, a service-port to another workload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakekube import FakeKube
from tests.workflows.deploy.helpers import (
    env_of,
    failure_report,
    last_execution,
    ns,
    sample,
    secret_value,
    submit,
)
from workflows.choices import ExecutionStatus, ResourceState
from workflows.models import Application, ResourceBinding, ResourceInstance
from workflows.services import delete_application
from workflows.services.resource_values import stored_secrets

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform", "fake_kubeconfig")]


def deployed(user: Any, name: str) -> str:
    result = submit(user, sample(name))
    execution = last_execution(result.application.name)
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    return str(result.application.name)


def test_shared_redis_is_provisioned_once_and_removed_with_its_last_user(
    developer: Any, fake_kube: FakeKube
) -> None:
    one = deployed(developer, "compose-06-resource-provisioning-score.yaml")
    two = deployed(developer, "compose-06-resource-provisioning-score2.yaml")
    shared = ResourceInstance.objects.get(resource_id="main-cache")
    assert sorted(shared.bindings.values_list("app_name", "resource_name")) == [
        ("workload-one", "cache-a"),
        ("workload-two", "cache-b"),
    ]
    assert ResourceInstance.objects.filter(resource_type="redis").count() == 2
    assert shared.transitions.filter(to_state="provisioning").count() == 1
    assert shared.scope == "team" and shared.team is not None and shared.team.name == "team-a"
    # A team's shared resources live in the team's shared namespace, named after their identity.
    shared_ns = "innominatus-shared-team-a"
    assert fake_kube.get_object("Deployment", "redis-main-cache", shared_ns) is not None
    assert fake_kube.get_object("Deployment", "workload-two-cache-c", ns(two)) is not None

    password = stored_secrets(shared)["password"]
    for app, variable in ((one, "CONNECTION"), (two, "CONNECTION_A")):
        value = secret_value(fake_kube, ns(app), env_of(fake_kube, app)[variable])
        assert value == f"redis://default:{password}@redis-main-cache.{shared_ns}.svc.cluster.local:6379"

    # The first user goes: the cache stays for the second, which now owns it.
    one_namespace = ns(one)
    delete_application(application=Application.objects.get(name=one), user=developer)
    shared.refresh_from_db()
    assert shared.state == ResourceState.ACTIVE and shared.app_name == two
    assert fake_kube.get_object("Deployment", "redis-main-cache", shared_ns) is not None
    assert fake_kube.get_object("Namespace", one_namespace) is None

    delete_application(application=Application.objects.get(name=two), user=developer)
    shared.refresh_from_db()
    assert shared.state == ResourceState.TERMINATED
    assert fake_kube.get_object("Deployment", "redis-main-cache", shared_ns) is None
    assert not ResourceBinding.objects.exists()


def test_service_port_points_at_the_other_workload(developer: Any, fake_kube: FakeKube) -> None:
    deployed(developer, "compose-08-service-port-resource-scoreA.yaml")
    app = deployed(developer, "compose-08-service-port-resource-scoreB.yaml")
    link = ResourceInstance.objects.get(app_name=app, resource_name="dependency")
    assert link.outputs["hostname"] == "workload-a.team-a-workload-a.svc.cluster.local"
    assert link.outputs["port"] == "8080"
    env = env_of(fake_kube, app)
    assert env["DEPENDENCY_URL"]["value"] == "http://workload-a.team-a-workload-a.svc.cluster.local:8080"
    probe = fake_kube.get_object("Deployment", "workload-a", ns("workload-a"))["spec"]["template"]["spec"]
    assert probe["containers"][0]["readinessProbe"] == {
        "exec": {"command": ["/usr/bin/curl", "-f", "-m", "5", "http://localhost"]}
    }


def test_service_port_to_an_unknown_workload_fails_with_the_reason(developer: Any) -> None:
    result = submit(developer, sample("compose-08-service-port-resource-scoreB.yaml"))
    execution = last_execution(result.application.name)
    assert execution.status == ExecutionStatus.FAILED
    link = ResourceInstance.objects.get(app_name="workload-b")
    assert link.state == ResourceState.FAILED
    assert "workload 'workload-a' is not an application with service ports" in link.error_message
    app = Application.objects.get(name="workload-b")
    assert app.deploy_state == "failed" and "provision-dependency" in app.deploy_message
