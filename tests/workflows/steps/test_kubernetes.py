"""The kubernetes step against the fake API server: apply, wait, delete, get, render-only, validation."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakekube import FakeKube
from tests.workflows.steps.helpers import StopSwitch, make_ctx, recorder
from workflows.steps.base import StepStopped
from workflows.steps.kubernetes import KubernetesStep

MANIFESTS = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  hostnames: [web.example.com]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: main, image: "nginx:1.27"}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Secret
metadata: {name: web-db}
stringData: {password: hunter2-very-secret}
"""


def run(tmp_path: Path, config: dict[str, Any], **kwargs: Any) -> Any:
    ctx = make_ctx(tmp_path, {"poll_interval": 0.05, **config}, step_type="kubernetes", **kwargs)
    return ctx, KubernetesStep().run(ctx)


@pytest.mark.usefixtures("fake_kubeconfig")
def test_apply_creates_the_namespace_applies_in_dependency_order_and_waits(
    fake_kube: FakeKube, tmp_path: Path
) -> None:
    fake_kube.rollout_delay = 0.2
    ctx, result = run(tmp_path, {"manifests": MANIFESTS, "namespace": "demo", "create_namespace": True})
    assert result.status == "completed", result.error
    assert result.outputs["applied"] is True
    kinds = [(o["kind"], o["name"], o["namespace"]) for o in result.outputs["objects"]]
    assert kinds == [
        ("Namespace", "demo", None),
        ("Secret", "web-db", "demo"),
        ("Service", "web", "demo"),
        ("Deployment", "web", "demo"),
        ("HTTPRoute", "web", "demo"),
    ]
    stored = fake_kube.get_object("Deployment", "web", "demo")
    assert stored is not None
    assert result.outputs["objects"][3]["uid"] == stored["metadata"]["uid"]
    assert fake_kube.managers("Deployment", "web", "demo") == {"innominatus": "Apply"}
    patched = [r.path.rsplit("/", 2)[-2] for r in fake_kube.requests if r.method == "PATCH"]
    assert patched == ["namespaces", "secrets", "services", "deployments", "httproutes"]
    assert result.outputs["rollouts"][0]["message"] == "deployment 'web' successfully rolled out"
    assert "waiting for Deployment demo/web to roll out (up to 300s)" in recorder(ctx).lines()


@pytest.mark.usefixtures("fake_kubeconfig")
def test_secret_values_never_reach_logs_or_outputs(fake_kube: FakeKube, tmp_path: Path) -> None:
    ctx, result = run(tmp_path, {"manifests": MANIFESTS, "wait": False})
    assert result.status == "completed", result.error
    _, got = run(tmp_path, {"operation": "get", "manifests": MANIFESTS}, log=recorder(ctx))
    assert got.status == "completed", got.error
    secret = next(o for o in got.outputs["objects"] if o["kind"] == "Secret")
    assert secret["object"]["dataKeys"] == ["password"] and "data" not in secret["object"]
    encoded = base64.b64encode(b"hunter2-very-secret").decode()
    everything = recorder(ctx).text() + repr(result.outputs) + repr(got.outputs)
    assert "hunter2" not in everything and encoded not in everything
    assert "applied Secret default/web-db (generation 1)" in recorder(ctx).lines()


@pytest.mark.usefixtures("fake_kubeconfig")
def test_rollout_timeout_fails_the_step(fake_kube: FakeKube, tmp_path: Path) -> None:
    fake_kube.never_ready("web")
    started = time.monotonic()
    ctx, result = run(tmp_path, {"manifests": MANIFESTS, "wait_timeout": "500ms"})
    assert result.status == "failed"
    assert "rollout of Deployment default/web failed" in result.error
    assert "did not roll out within 0.5s" in result.error
    assert "0 of 2 updated replicas of 'web' are available" in recorder(ctx).lines()
    assert result.outputs["applied"] is True and len(result.outputs["objects"]) == 4
    assert time.monotonic() - started < 5


@pytest.mark.usefixtures("fake_kubeconfig")
def test_cancellation_during_a_rollout_wait_stops_the_step(fake_kube: FakeKube, tmp_path: Path) -> None:
    fake_kube.never_ready("web")
    stop = StopSwitch()
    stop.stop_after(0.3, "cancelled by alice")
    started = time.monotonic()
    with pytest.raises(StepStopped) as caught:
        run(tmp_path, {"manifests": MANIFESTS, "poll_interval": 2}, stop=stop)
    assert caught.value.reason == "cancelled by alice"
    assert time.monotonic() - started < 1.5


@pytest.mark.usefixtures("no_cluster")
def test_render_only_without_a_cluster_completes_and_says_why(tmp_path: Path) -> None:
    ctx, result = run(tmp_path, {"manifests": MANIFESTS, "namespace": "demo"})
    reason = "no in-cluster service account and KUBECONFIG is not set"
    assert result.status == "completed"
    assert result.outputs["applied"] is False and result.outputs["render_only"] is True
    assert result.outputs["reason"] == reason
    assert [o["kind"] for o in result.outputs["objects"]] == ["Secret", "Service", "Deployment", "HTTPRoute"]
    lines = recorder(ctx).lines()
    assert f"render-only mode: nothing was applied because {reason}" in lines
    assert "would apply Deployment demo/web" in lines
    assert any(line.startswith("HTTPRoute/web: no schema for HTTPRoute") for line in lines)


@pytest.mark.usefixtures("fake_kubeconfig")
def test_render_only_flag_sends_nothing_even_with_a_cluster(fake_kube: FakeKube, tmp_path: Path) -> None:
    _, result = run(tmp_path, {"manifests": MANIFESTS, "render_only": True})
    assert result.status == "completed" and result.outputs["applied"] is False
    assert result.outputs["reason"] == "render_only is set for this step"
    assert fake_kube.requests == []


@pytest.mark.usefixtures("no_cluster")
def test_invalid_manifests_fail_even_in_render_only_mode(tmp_path: Path) -> None:
    bad = MANIFESTS.replace("replicas: 2", 'replicas: "three"')
    ctx, result = run(tmp_path, {"manifests": bad})
    assert result.status == "failed"
    assert (
        result.error
        == "1 manifest problem(s): Deployment/web: spec.replicas: 'three' is not of type 'integer', 'null'"
    )
    assert any(line.startswith("invalid manifest: Deployment/web") for line in recorder(ctx).lines())


@pytest.mark.usefixtures("fake_kubeconfig")
def test_invalid_manifests_are_never_sent(fake_kube: FakeKube, tmp_path: Path) -> None:
    _, result = run(tmp_path, {"manifests": MANIFESTS.replace("replicas: 2", 'replicas: "three"')})
    assert result.status == "failed"
    assert [r for r in fake_kube.requests if r.method == "PATCH"] == []


@pytest.mark.usefixtures("fake_kubeconfig")
def test_delete_goes_in_reverse_order_and_tolerates_missing_objects(
    fake_kube: FakeKube, tmp_path: Path
) -> None:
    run(tmp_path, {"manifests": MANIFESTS, "wait": False})
    fake_kube.store.delete(fake_kube.resource_type("Service"), "default", "web")
    ctx, result = run(tmp_path, {"operation": "delete", "manifests": MANIFESTS})
    assert result.status == "completed", result.error
    assert [(o["kind"], o["deleted"]) for o in result.outputs["objects"]] == [
        ("HTTPRoute", True),
        ("Deployment", True),
        ("Service", False),
        ("Secret", True),
    ]
    assert "Service default/web was already gone" in recorder(ctx).lines()
    # Only the cluster's own `kubernetes` Service is left.
    assert [o["metadata"]["name"] for o in fake_kube.objects(namespace="default")] == ["kubernetes"]


@pytest.mark.usefixtures("fake_kubeconfig")
def test_get_reports_missing_objects(fake_kube: FakeKube, tmp_path: Path) -> None:
    fake_kube.put(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "present"}, "data": {"a": "1"}}
    )
    manifests = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "present"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "absent"}},
    ]
    _, result = run(tmp_path, {"operation": "get", "manifests": manifests})
    assert result.status == "failed" and result.error == "not found: ConfigMap default/absent"
    _, result = run(tmp_path, {"operation": "get", "manifests": manifests, "missing_ok": True})
    assert result.status == "completed"
    present, absent = result.outputs["objects"]
    assert present["found"] and present["object"]["data"] == {"a": "1"}
    assert "managedFields" not in present["object"]["metadata"]
    assert absent == {"kind": "ConfigMap", "name": "absent", "namespace": "default", "found": False}


def test_explicit_kubeconfig_in_config(
    fake_kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_cluster: None
) -> None:
    path = fake_kube.write_kubeconfig(tmp_path / "kc")
    _, result = run(tmp_path, {"manifests": MANIFESTS, "wait": False, "kubeconfig": str(path)})
    assert result.status == "completed" and result.outputs["applied"] is True
    assert fake_kube.get_object("Service", "web") is not None


def test_a_configured_but_broken_cluster_fails_instead_of_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    _, result = run(tmp_path, {"manifests": MANIFESTS})
    assert result.status == "failed"
    assert (
        result.error
        == f"cluster configuration (kubeconfig) is unusable: KUBECONFIG file not found: {tmp_path}/missing"
    )


@pytest.mark.usefixtures("fake_kubeconfig")
def test_api_errors_fail_the_step_with_the_server_message(fake_kube: FakeKube, tmp_path: Path) -> None:
    fake_kube.fail_next(403, method="PATCH", message='secrets "web-db" is forbidden: no access')
    ctx, result = run(tmp_path, {"manifests": MANIFESTS})
    assert result.status == "failed"
    assert result.error == 'kubernetes apply failed: 403 Forbidden: secrets "web-db" is forbidden: no access'
    assert recorder(ctx).lines()[-1] == result.error


def test_validate_config() -> None:
    step = KubernetesStep()
    assert step.type_name == "kubernetes" and "k8s" in step.aliases and step.touches_cluster
    assert step.validate_config({"manifests": MANIFESTS}) == []
    assert step.validate_config({"manifests": "{{ steps.render.outputs.yaml }}"}) == []
    assert step.validate_config({}) == ["config.manifests is required"]
    problems = step.validate_config(
        {"operation": "patch", "manifests": "a: [", "wait": "maybe", "wait_timeout": "soon", "namespace": 3}
    )
    assert problems[0] == "config.operation must be one of apply, delete, get, not 'patch'"
    assert problems[1].startswith("config.manifests: manifests are not valid YAML")
    assert problems[2].startswith("config.wait_timeout: 'soon' is not a duration")
    assert problems[3:] == ["config.wait must be true or false", "config.namespace must be a string"]
