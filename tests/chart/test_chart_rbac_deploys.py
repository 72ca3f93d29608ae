"""Every Score sample and every golden path deploys with exactly the permissions the chart grants.

The fake API server enforces RBAC from `helm template` output, and the steps talk to it with the
worker ServiceAccount's token — under the default values (per-application namespaces that
innominatus creates) and under the production example's fixed namespaces (namespaces an admin
created beforehand, listed in rbac.workloads.targetNamespaces).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.conftest import CHART_DIR, NAMESPACE, Chart
from tests.fakekube import FakeKube
from tests.workflows.deploy.helpers import SAMPLES, failure_report, last_execution, ns, sample, submit
from tests.workflows.provider_fixtures import admin_config, fresh_registry, platform
from workflows.choices import ExecutionStatus, ResourceState
from workflows.models import ResourceInstance
from workflows.runtime import ownership
from workflows.score import ScoreValidationError, ingest
from workflows.score.naming import k8s_name

__all__ = ["admin_config", "fresh_registry", "platform"]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform")]

REPO = Path(__file__).resolve().parents[2]
# ../shared/score/samples next to the checkout (or next to the worktrees' directory).
SHARED_SAMPLES = next(
    (
        d
        for d in (
            REPO.parent / "shared" / "score" / "samples",
            REPO.parents[1] / "shared" / "score" / "samples",
        )
        if d.is_dir()
    ),
    REPO.parent / "shared" / "score" / "samples",
)
PRODUCTION_VALUES = str(CHART_DIR / "ci" / "production-values.yaml")
# Deployed in pairs by tests/workflows/deploy/test_deploy_links.py (B needs A first).
PAIRED = {
    "compose-06-resource-provisioning-score2.yaml",
    "compose-08-service-port-resource-scoreA.yaml",
    "compose-08-service-port-resource-scoreB.yaml",
}
README = "spec-readme-postgres-dns-route.yaml"
WORKER = "innominatus-worker"


def _accepted() -> list[str]:
    names = []
    for path in sorted(SAMPLES.glob("*.yaml")):
        try:
            ingest(path.read_text())
        except ScoreValidationError:
            continue
        if path.name not in PAIRED:
            names.append(path.name)
    return names


ACCEPTED = _accepted()


def app_namespace(app: str, environment: str = "", team: str = "team-a") -> str:
    return k8s_name(team, app, environment)


def owned(app: str, environment: str = "") -> dict[str, str]:
    """The labels an admin puts on an application's (environment's) namespace of the fixed list."""
    labels = {ownership.TEAM: "team-a", ownership.APPLICATION: app}
    return {**labels, ownership.ENVIRONMENT: environment} if environment else labels


# The team's namespace for its shared resources (`id` in a Score spec): innominatus-shared-<team>.
TEAM_SHARED = {"innominatus-shared-team-a": {ownership.TEAM: "team-a", ownership.TEAM_SHARED: "true"}}


def sample_app(name: str) -> str:
    return str(yaml.safe_load(sample(name))["metadata"]["name"])


class RbacCluster:
    """The fake cluster with the chart's RBAC; `mode` is "default" or "fixed"."""

    def __init__(self, fake: FakeKube, chart: Chart, mode: str, kubeconfig: Path) -> None:
        self.fake, self.chart, self.mode, self.kubeconfig = fake, chart, mode, kubeconfig
        self.manifests: list[dict[str, Any]] = []

    def install(self, namespaces: dict[str, dict[str, str]]) -> None:
        """Render the chart and enforce its RBAC. In fixed mode `namespaces` (name: ownership labels) are
        the listed namespaces, created and labelled beforehand as docs/installation.md says."""
        if self.mode == "default":
            self.manifests = self.chart.render()
        else:
            # The example's list replaced by the namespaces this test deploys into.
            listed = json.dumps(sorted(namespaces))
            self.manifests = self.chart.render(
                "--set-json", f"rbac.workloads.targetNamespaces={listed}", values_files=(PRODUCTION_VALUES,)
            )
            listed_roles = [
                m
                for m in self.manifests
                if m["kind"] == "Role" and m["metadata"]["name"].endswith("workloads")
            ]
            assert sorted(r["metadata"]["namespace"] for r in listed_roles) == sorted(namespaces)
            for name, labels in namespaces.items():
                metadata = {"name": name, "labels": {ownership.MANAGED_BY: "innominatus", **labels}}
                self.fake.put({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
                roles = [m for m in self.manifests if m["metadata"].get("namespace") == name]
                assert self.chart.find(roles, "Role", "innominatus-workloads")
        self.fake.enforce_rbac(self.manifests)
        self.fake.write_service_account_kubeconfig(self.kubeconfig, NAMESPACE, WORKER)


@pytest.fixture(params=["default", "fixed"])
def cluster(
    request: pytest.FixtureRequest,
    fake_kube: FakeKube,
    chart: Chart,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[RbacCluster]:
    from workflows.runtime.cluster import reset_clients

    kubeconfig = tmp_path / "worker-kubeconfig"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    reset_clients()
    yield RbacCluster(fake_kube, chart, request.param, kubeconfig)
    reset_clients()


def test_the_shared_samples_are_the_tested_ones() -> None:
    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"no {SHARED_SAMPLES} in this checkout")
    for path in SAMPLES.glob("*.yaml"):
        assert (SHARED_SAMPLES / path.name).read_text() == path.read_text(), path.name
    assert {p.name for p in SHARED_SAMPLES.glob("*.yaml")} == {p.name for p in SAMPLES.glob("*.yaml")}


@pytest.mark.parametrize("name", ACCEPTED)
def test_sample_deploys_as_the_worker(name: str, developer: Any, cluster: RbacCluster) -> None:
    app = sample_app(name)
    cluster.install({app_namespace(app): owned(app), **TEAM_SHARED})
    result = submit(developer, sample(name))
    execution = last_execution(result.application.name)
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    assert cluster.fake.get_object("Deployment", app, ns(app)) is not None
    for resource in ResourceInstance.objects.filter(app_name=app):
        assert resource.state == ResourceState.ACTIVE, (resource, resource.error_message)


def test_every_golden_path_runs_as_the_worker(developer: Any, cluster: RbacCluster) -> None:
    from workflows.goldenpaths.catalog import builtin_golden_paths
    from workflows.services.goldenpaths import launch_golden_path

    app = sample_app(README)
    cluster.install({app_namespace(app): owned(app), app_namespace(app, "preview"): owned(app, "preview")})
    assert (
        last_execution(submit(developer, sample(README)).application.name).status == ExecutionStatus.COMPLETED
    )
    runs = [
        ("db-lifecycle", {"operation": "rotate-password"}),
        ("db-lifecycle", {"operation": "backup"}),
        ("ephemeral-env", {"environment": "preview", "ttl": "1h"}),
        ("ephemeral-env-teardown", {"environment": "preview"}),
        ("undeploy-app", {}),
        ("deploy-app", {}),
    ]
    assert {path for path, _ in runs} == set(builtin_golden_paths())
    for path, parameters in runs:
        execution = launch_golden_path(name=path, parameters={"app_name": app, **parameters}, user=developer)
        execution.refresh_from_db()
        assert execution.status == ExecutionStatus.COMPLETED, f"{path}: {failure_report(execution)}"
        if path == "db-lifecycle":  # a password Job, a pg_dump Job (batch/v1)
            job = "pw" if parameters["operation"] == "rotate-password" else "backup"
            assert cluster.fake.get_object("Job", f"sample-db-{job}-{execution.pk[-6:]}", ns(app)) is not None
    assert cluster.fake.get_object("StatefulSet", "sample-db", ns(app)) is not None


@pytest.mark.parametrize("cluster", ["fixed"], indirect=True)
def test_a_namespace_outside_the_list_is_forbidden(developer: Any, cluster: RbacCluster) -> None:
    cluster.install({"team-a-other": owned("other")})
    result = submit(developer, sample("compose-01-hello-score.yaml"))
    execution = last_execution(result.application.name)
    assert execution.status == ExecutionStatus.FAILED
    namespace = app_namespace(sample_app("compose-01-hello-score.yaml"))
    expected = (
        f'namespaces "{namespace}" is forbidden: User "system:serviceaccount:platform:innominatus-worker" '
        'cannot get resource "namespaces" in API group "" at the cluster scope'
    )
    assert expected in failure_report(execution)


@pytest.mark.parametrize(
    "pair",
    [
        ("compose-06-resource-provisioning-score.yaml", "compose-06-resource-provisioning-score2.yaml"),
        ("compose-08-service-port-resource-scoreA.yaml", "compose-08-service-port-resource-scoreB.yaml"),
    ],
)
def test_paired_samples_deploy_and_go_away_as_the_worker(
    pair: tuple[str, str], developer: Any, cluster: RbacCluster
) -> None:
    from workflows.models import Application
    from workflows.services import delete_application

    apps = [sample_app(name) for name in pair]
    cluster.install({**{app_namespace(app): owned(app) for app in apps}, **TEAM_SHARED})
    for name in pair:
        execution = last_execution(submit(developer, sample(name)).application.name)
        assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    for app in apps:
        assert cluster.fake.get_object("Deployment", app, app_namespace(app)) is not None
        delete_application(application=Application.objects.get(name=app), user=developer)
        assert cluster.fake.get_object("Deployment", app, app_namespace(app)) is None
