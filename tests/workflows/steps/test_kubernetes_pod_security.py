"""The kubernetes step (and so provider workflows and deploys) refuses pods below Pod Security baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakekube import FakeKube
from tests.workflows.steps.helpers import make_ctx, recorder
from workflows.steps.kubernetes import KubernetesStep

DAEMON = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      hostNetwork: true
      containers:
        - name: agent
          image: busybox:1.36
          securityContext: {privileged: true}
          volumeMounts: [{name: root, mountPath: /host}]
      volumes:
        - {name: root, hostPath: {path: /}}
"""


@pytest.mark.usefixtures("fake_kubeconfig")
def test_a_privileged_host_pod_fails_the_step_naming_the_object_and_nothing_is_applied(
    fake_kube: FakeKube, tmp_path: Path
) -> None:
    ctx = make_ctx(tmp_path, {"manifests": DAEMON, "namespace": "tools"}, step_type="kubernetes")
    result = KubernetesStep().run(ctx)
    assert result.status == "failed"
    assert result.error.startswith(
        "3 manifest problem(s): DaemonSet/node-agent: spec.template.spec.hostNetwork: "
    )
    lines = recorder(ctx).lines()
    for path in ("spec.template.spec.hostNetwork", "spec.template.spec.volumes[0].hostPath"):
        assert any(line.startswith(f"invalid manifest: DaemonSet/node-agent: {path}: ") for line in lines), (
            lines
        )
    assert any("containers[0].securityContext.privileged" in line for line in lines)
    assert not [r for r in fake_kube.requests if r.method in ("PATCH", "POST", "PUT")]
    assert fake_kube.get_object("ConfigMap", "settings", "tools") is None


@pytest.mark.usefixtures("fake_kubeconfig")
def test_delete_and_get_of_such_objects_still_work(fake_kube: FakeKube, tmp_path: Path) -> None:
    # Cleaning up what an older version applied must stay possible.
    ctx = make_ctx(
        tmp_path,
        {"manifests": DAEMON, "namespace": "tools", "operation": "delete"},
        step_type="kubernetes",
    )
    assert KubernetesStep().run(ctx).status == "completed"


@pytest.mark.usefixtures("fake_kubeconfig")
def test_a_namespace_the_step_creates_enforces_baseline(fake_kube: FakeKube, tmp_path: Path) -> None:
    config = {"manifests": DAEMON.split("---")[0], "namespace": "tools", "create_namespace": True}
    ctx = make_ctx(tmp_path, config, step_type="kubernetes")
    assert KubernetesStep().run(ctx).status == "completed"
    namespace = fake_kube.get_object("Namespace", "tools")
    assert namespace is not None
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
