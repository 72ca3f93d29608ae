"""`kubectl set env deployment/innominatus DB_PASSWORD_SECRET=<new>` rotates the database password of every
component that connects — web, worker, backup CronJob, migration hook — under the chart's default RBAC.

The objects are `helm template` output; the fake API server enforces their RBAC; each component's
settings are loaded in a real Python process with the component's environment and ServiceAccount.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from tests.chart.conftest import NAMESPACE, REPO_ROOT, Chart
from tests.fakekube import FakeKube

NEW_PASSWORD = "rotated-password-0123"
PRINT_PASSWORD = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default']['PASSWORD'])"
)


def _secret(name: str, password: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "stringData": {"password": password},
    }


@pytest.fixture
def installed(chart: Chart) -> Any:
    manifests = chart.render(set_values={"backup.enabled": "true"})
    fake = FakeKube(rollout_delay=0)
    fake.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    for manifest in manifests:
        if manifest["kind"] in ("Deployment", "CronJob", "ServiceAccount"):
            fake.put(manifest, manager="helm")
    fake.enforce_rbac(manifests)
    try:
        yield fake, manifests
    finally:
        fake.stop()


def set_env(fake: FakeKube, deployment: str, name: str, value: str) -> None:
    """What `kubectl set env deployment/<deployment> NAME=value` sends: the container with its new env."""
    live = fake.get_object("Deployment", deployment, NAMESPACE)
    assert live is not None
    containers = live["spec"]["template"]["spec"]["containers"]
    for container in containers:
        container["env"] = [e for e in container.get("env", []) if e["name"] != name] + [
            {"name": name, "value": value}
        ]
    body = json.dumps({"spec": {"template": {"spec": {"containers": containers}}}}).encode()
    request = urllib.request.Request(
        f"{fake.url}/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{deployment}?fieldManager=kubectl-env",
        data=body,
        method="PATCH",
        headers={"Authorization": f"Bearer {fake.token}", "Content-Type": "application/merge-patch+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def password_of(fake: FakeKube, pod: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Load the settings with a pod's database environment, as its ServiceAccount; prints the password."""
    account = pod["serviceAccountName"]
    kubeconfig = fake.write_service_account_kubeconfig(tmp_path / f"{account}.kubeconfig", NAMESPACE, account)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "KUBERNETES_", "POD_"))}
    env |= {
        "KUBECONFIG": str(kubeconfig),
        "POD_NAMESPACE": NAMESPACE,
        "SECRET_KEY": "rotation-test-key-" + "x" * 40,
    }
    env.pop("DB_PASSWORD", None)
    for variable in pod["containers"][0]["env"]:
        if variable["name"].startswith("DB_") and "value" in variable:
            env[variable["name"]] = variable["value"]
    env["DJANGO_SETTINGS_MODULE"] = "innominatus.settings"
    return subprocess.run(
        [sys.executable, "-c", PRINT_PASSWORD],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def pods(fake: FakeKube, manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pod specs as they would start now: the Deployments from the cluster, the jobs as rendered."""
    found = {}
    for name in ("innominatus", "innominatus-worker"):
        live = fake.get_object("Deployment", name, NAMESPACE)
        assert live is not None
        found[name] = live["spec"]["template"]["spec"]
    for manifest in manifests:
        if manifest["kind"] == "CronJob":
            found["backup"] = manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        if manifest["kind"] == "Job":
            found["migrate"] = manifest["spec"]["template"]["spec"]
    return found


def test_set_env_on_the_web_deployment_rotates_every_component(installed: Any, tmp_path: Path) -> None:
    fake, manifests = installed
    fake.put(_secret("innominatus-db-new", NEW_PASSWORD))
    set_env(fake, "innominatus", "DB_PASSWORD_SECRET", "innominatus-db-new")
    started = pods(fake, manifests)
    assert set(started) == {"innominatus", "innominatus-worker", "backup", "migrate"}
    for component, pod in started.items():
        result = password_of(fake, pod, tmp_path)
        assert result.returncode == 0, f"{component}: {result.stderr[-2000:]}"
        assert result.stdout.strip() == NEW_PASSWORD, component


def test_a_secret_the_chart_does_not_name_is_forbidden(installed: Any, tmp_path: Path) -> None:
    fake, manifests = installed
    fake.put(_secret("someone-elses", NEW_PASSWORD))
    set_env(fake, "innominatus", "DB_PASSWORD_SECRET", "someone-elses")
    result = password_of(fake, pods(fake, manifests)["innominatus"], tmp_path)
    assert result.returncode != 0
    assert "cannot read Secret platform/someone-elses: 403 forbidden" in result.stderr


@pytest.mark.django_db
def test_a_running_worker_restarts_when_the_web_deployment_names_another_secret(
    installed: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops.supervisor.master import Supervisor

    fake, _ = installed
    kubeconfig = fake.write_service_account_kubeconfig(tmp_path / "worker", NAMESPACE, "innominatus-worker")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("POD_NAMESPACE", NAMESPACE)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with override_settings(DB_PASSWORD_SECRET_FROM="innominatus", DB_PASSWORD_SECRET=""):
        supervisor = Supervisor(workers=1, drain_seconds=1)
        assert supervisor.follow_password_secret() is False
        assert not supervisor.stop_requested
        set_env(fake, "innominatus", "DB_PASSWORD_SECRET", "innominatus-db-new")
        assert supervisor.follow_password_secret() is True
        assert supervisor.stop_requested
