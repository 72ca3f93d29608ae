"""The kubernetes step inside an execution applies over, reads and deletes only what its owner owns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakekube import FakeKube
from tests.fakekube.cluster import RELEASE_NAMESPACE, TEAM_A_NAMESPACE
from tests.workflows.steps.helpers import make_ctx
from workflows.runtime.ownership import APPLICATION, MANAGED_BY, TEAM, Owner
from workflows.steps.kubernetes import KubernetesStep

TEAM_B = Owner(team="team-b", application="web", platform_namespaces=frozenset({"innominatus-shared"}))


def run(tmp_path: Path, config: dict[str, Any], owner: Owner | None = TEAM_B) -> Any:
    ctx = make_ctx(tmp_path, {"wait": False, **config}, step_type="kubernetes")
    ctx.owner = owner
    return KubernetesStep().run(ctx)


def configmap(name: str, namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": "v"}}


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


@pytest.mark.usefixtures("fake_kubeconfig")
def test_created_objects_carry_the_owners_labels_and_a_second_apply_is_allowed(
    fake_kube: FakeKube, tmp_path: Path
) -> None:
    manifests = [namespace("team-b-web"), configmap("settings", "team-b-web")]
    assert run(tmp_path, {"manifests": manifests}).status == "completed"
    assert run(tmp_path, {"manifests": manifests}).status == "completed"
    for kind, name, ns in [("Namespace", "team-b-web", None), ("ConfigMap", "settings", "team-b-web")]:
        labels = fake_kube.get_object(kind, name, ns)["metadata"]["labels"]
        assert (labels[MANAGED_BY], labels[TEAM], labels[APPLICATION]) == ("innominatus", "team-b", "web")


@pytest.mark.usefixtures("fake_kubeconfig")
@pytest.mark.parametrize(
    ("manifests", "message"),
    [
        ([namespace("kube-public")], "namespace kube-public exists and is not managed by innominatus"),
        ([configmap("x", "kube-system")], "namespace kube-system exists and is not managed by innominatus"),
        (
            [configmap("innominatus-config", RELEASE_NAMESPACE)],
            "configmap innominatus/innominatus-config exists",
        ),
        ([namespace(TEAM_A_NAMESPACE)], "is managed by innominatus for another team"),
        (
            [configmap("new", TEAM_A_NAMESPACE)],
            "namespace team-a-shop exists and is managed by innominatus for another team",
        ),
        # A template cannot claim another owner: the step's labels win over the manifest's.
        (
            [
                {
                    **namespace(TEAM_A_NAMESPACE),
                    "metadata": {"name": TEAM_A_NAMESPACE, "labels": {TEAM: "team-a", APPLICATION: "shop"}},
                }
            ],
            "for another team",
        ),
    ],
)
def test_foreign_or_unlabelled_objects_are_refused_and_left_alone(
    fake_kube: FakeKube, tmp_path: Path, manifests: list[dict[str, Any]], message: str
) -> None:
    before = fake_kube.snapshot()
    result = run(tmp_path, {"manifests": manifests})
    assert result.status == "failed"
    assert message in result.error
    assert fake_kube.snapshot() == before
    assert [r for r in fake_kube.requests if r.method in ("PATCH", "POST", "PUT", "DELETE")] == []


@pytest.mark.usefixtures("fake_kubeconfig")
@pytest.mark.parametrize(
    ("operation", "manifests"),
    [
        ("delete", [namespace("kube-system")]),
        ("delete", [namespace(TEAM_A_NAMESPACE)]),
        (
            "delete",
            [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "shop-db", "namespace": TEAM_A_NAMESPACE},
                }
            ],
        ),
        (
            "get",
            [
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "innominatus-secrets", "namespace": RELEASE_NAMESPACE},
                }
            ],
        ),
    ],
)
def test_deletes_and_reads_of_objects_the_owner_does_not_own_are_refused(
    fake_kube: FakeKube, tmp_path: Path, operation: str, manifests: list[dict[str, Any]]
) -> None:
    before = fake_kube.snapshot()
    result = run(tmp_path, {"operation": operation, "manifests": manifests})
    assert result.status == "failed"
    assert f"kubernetes {operation} refused" in result.error
    assert "object" not in str(result.outputs)
    assert fake_kube.snapshot() == before


@pytest.mark.usefixtures("fake_kubeconfig")
def test_an_environment_owns_only_its_own_namespace(fake_kube: FakeKube, tmp_path: Path) -> None:
    assert (
        run(tmp_path, {"manifests": [namespace("team-b-web-pr1")], "environment": "pr1"}).status
        == "completed"
    )
    assert run(tmp_path, {"manifests": [namespace("team-b-web")]}).status == "completed"
    other = run(
        tmp_path, {"operation": "delete", "manifests": [namespace("team-b-web")], "environment": "pr1"}
    )
    assert other.status == "failed" and "belongs to another environment" in other.error
    main = run(tmp_path, {"operation": "delete", "manifests": [namespace("team-b-web-pr1")]})
    assert main.status == "failed" and "belongs to environment pr1" in main.error
    gone = run(
        tmp_path, {"operation": "delete", "manifests": [namespace("team-b-web-pr1")], "environment": "pr1"}
    )
    assert gone.status == "completed", gone.error
    assert fake_kube.get_object("Namespace", "team-b-web-pr1") is None
    assert fake_kube.get_object("Namespace", "team-b-web") is not None


@pytest.mark.usefixtures("fake_kubeconfig")
def test_the_platform_namespace_holds_every_teams_objects_but_not_their_objects_in_common(
    fake_kube: FakeKube, tmp_path: Path
) -> None:
    shared = [namespace("innominatus-shared"), configmap("b-cache", "innominatus-shared")]
    assert run(tmp_path, {"manifests": shared}).status == "completed"
    team_a = Owner(team="team-a", application="shop", platform_namespaces=TEAM_B.platform_namespaces)
    assert run(tmp_path, {"manifests": [namespace("innominatus-shared")]}, owner=team_a).status == "completed"
    refused = run(tmp_path, {"manifests": [configmap("b-cache", "innominatus-shared")]}, owner=team_a)
    assert refused.status == "failed" and "for another team" in refused.error


@pytest.mark.usefixtures("fake_kubeconfig")
def test_objects_applied_before_ownership_labels_are_adopted_by_their_application_only(
    fake_kube: FakeKube, tmp_path: Path
) -> None:
    legacy = {"app.kubernetes.io/managed-by": "innominatus", "innominatus.dev/app": "web"}
    fake_kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web", "labels": legacy}})
    other = Owner(team="team-b", application="api")
    refused = run(tmp_path, {"manifests": [namespace("web")]}, owner=other)
    assert refused.status == "failed" and "namespace web exists without an owning team" in refused.error
    assert run(tmp_path, {"manifests": [namespace("web")]}).status == "completed"
    labels = fake_kube.get_object("Namespace", "web")["metadata"]["labels"]
    assert (labels[TEAM], labels[APPLICATION]) == ("team-b", "web")
