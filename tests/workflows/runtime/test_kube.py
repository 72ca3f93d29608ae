"""KubeAdapter over the real client and HTTP: apply, get, list, delete, rollout waits, secrets, errors."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fakekube import FakeKube
from workflows.runtime.cluster import reset_clients
from workflows.runtime.errors import KubeError, RolloutFailed, RolloutTimeout, WaitStopped
from workflows.runtime.kube import KubeAdapter, connect


@pytest.fixture
def kube(fake_kubeconfig: Path) -> KubeAdapter:
    return connect()


def deployment(name: str = "web", replicas: int = 2, **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, **metadata},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }


def configmap(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"k": "v"}}


def test_apply_creates_with_server_side_apply_and_field_manager(
    fake_kube: FakeKube, kube: KubeAdapter
) -> None:
    created = kube.apply(deployment(), namespace="default")
    assert created["metadata"]["namespace"] == "default" and created["metadata"]["uid"]
    patch = [r for r in fake_kube.requests if r.method == "PATCH"]
    assert len(patch) == 1
    assert patch[0].path == "/apis/apps/v1/namespaces/default/deployments/web"
    assert patch[0].content_type == "application/apply-patch+yaml"
    assert patch[0].query["fieldManager"] == "innominatus" and patch[0].query["force"] == "true"
    assert fake_kube.managers("Deployment", "web") == {"innominatus": "Apply"}


def test_apply_again_updates_in_place(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    first = kube.apply(deployment(replicas=1))
    second = kube.apply(deployment(replicas=4))
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert second["metadata"]["generation"] == 2
    assert fake_kube.get_object("Deployment", "web")["spec"]["replicas"] == 4  # type: ignore[index]


def test_namespace_defaulting_and_cluster_scoped_objects(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a", "namespace": "x"}})
    kube.apply(configmap("in-default"))
    kube.apply(configmap("in-team"), namespace="team-a")
    kube.apply(configmap("explicit", namespace="team-a"), namespace="default")
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    applied = kube.apply(role, namespace="team-a")
    assert "namespace" not in applied["metadata"]
    assert fake_kube.get_object("Namespace", "team-a") is not None
    assert [o["metadata"]["name"] for o in fake_kube.objects("ConfigMap", "team-a")] == [
        "explicit",
        "in-team",
    ]
    assert fake_kube.get_object("ConfigMap", "in-default", "default") is not None
    assert [r.path for r in fake_kube.requests if r.method == "PATCH"][-1] == (
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/reader"
    )


def test_get_list_and_delete(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    kube.apply(configmap("a", app="x"))
    kube.apply(configmap("b", app="y"))
    kube.apply(configmap("c", "other", app="x"))
    got = kube.get("v1", "ConfigMap", "a", "default")
    assert got is not None and got["data"] == {"k": "v"} and got["kind"] == "ConfigMap"
    assert kube.get("v1", "ConfigMap", "zzz", "default") is None
    assert [o["metadata"]["name"] for o in kube.list("v1", "ConfigMap", "default")] == ["a", "b"]
    everywhere = kube.list("v1", "ConfigMap", label_selector="app=x")
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in everywhere] == [
        ("default", "a"),
        ("other", "c"),
    ]
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for o in everywhere)
    assert kube.delete("v1", "ConfigMap", "a", "default") is True
    assert kube.delete("v1", "ConfigMap", "a", "default") is False
    assert fake_kube.get_object("ConfigMap", "a") is None


def test_deleting_a_namespace_takes_its_objects(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tmp"}})
    kube.apply(configmap("x"), namespace="tmp")
    assert kube.delete("v1", "Namespace", "tmp") is True
    assert kube.list("v1", "ConfigMap", "tmp") == []


def test_custom_resources_are_applied_through_discovery(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "web"},
        "spec": {"hostnames": ["web.example.com"], "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]},
    }
    kube.apply(route, namespace="default")
    assert fake_kube.get_object("HTTPRoute", "web")["spec"]["hostnames"] == ["web.example.com"]  # type: ignore[index]


def test_unknown_kind_is_a_clear_not_found(kube: KubeAdapter) -> None:
    with pytest.raises(KubeError) as caught:
        kube.apply({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert caught.value.status == 404
    assert "no resource type for kind 'Widget' in 'example.com/v1'" in caught.value.message


def test_errors_carry_status_reason_and_message(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    fake_kube.fail_next(403, message='deployments.apps "web" is forbidden: nope')
    with pytest.raises(KubeError) as caught:
        kube.apply(deployment())
    assert (caught.value.status, caught.value.reason) == (403, "Forbidden")
    assert caught.value.message == 'deployments.apps "web" is forbidden: nope'
    fake_kube.fail_next(500)
    with pytest.raises(KubeError) as caught:
        kube.get("apps/v1", "Deployment", "web", "default")
    assert (caught.value.status, caught.value.reason) == (500, "InternalError")
    with pytest.raises(KubeError) as caught:
        kube.apply(configmap("x"), namespace="missing")
    assert caught.value.not_found and caught.value.message == 'namespaces "missing" not found'


def test_apply_conflict_without_force(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    kube.apply(deployment(replicas=2), field_manager="someone-else")
    with pytest.raises(KubeError) as caught:
        kube.apply(deployment(replicas=3), force=False)
    assert caught.value.conflict and caught.value.reason == "Conflict"
    kube.apply(deployment(replicas=3))
    assert fake_kube.get_object("Deployment", "web")["spec"]["replicas"] == 3  # type: ignore[index]


def test_unreachable_server_is_a_kube_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKube() as fake:
        path = fake.write_kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(path))
    reset_clients()
    adapter = connect()
    with pytest.raises(KubeError) as caught:
        adapter.get("v1", "ConfigMap", "x", "default")
    assert (caught.value.status, caught.value.reason) == (0, "Unreachable")


def test_wait_for_rollout_succeeds_once_replicas_are_available(
    fake_kube: FakeKube, kube: KubeAdapter
) -> None:
    fake_kube.rollout_delay = 0.3
    kube.apply(deployment(replicas=3))
    progress: list[str] = []
    started = time.monotonic()
    status = kube.wait_for_rollout(
        "default", "web", timeout=5, poll_interval=0.05, on_progress=progress.append
    )
    assert status.done and status.message == "deployment 'web' successfully rolled out"
    assert time.monotonic() - started >= 0.25
    assert progress == ["0 of 3 updated replicas of 'web' are available"]


def test_wait_for_rollout_times_out_on_a_never_ready_deployment(
    fake_kube: FakeKube, kube: KubeAdapter
) -> None:
    fake_kube.never_ready("web")
    kube.apply(deployment())
    started = time.monotonic()
    with pytest.raises(RolloutTimeout) as caught:
        kube.wait_for_rollout("default", "web", timeout=0.5, poll_interval=0.05)
    assert 0.45 <= time.monotonic() - started < 3
    assert "did not roll out within 0.5s" in caught.value.message


def test_progress_deadline_exceeded_fails_the_rollout(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    fake_kube.exceed_deadline("web")
    kube.apply(deployment())
    with pytest.raises(RolloutFailed, match="exceeded its progress deadline"):
        kube.wait_for_rollout("default", "web", timeout=5, poll_interval=0.05)


def test_wait_for_rollout_stops_promptly_when_told(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    fake_kube.never_ready("web")
    kube.apply(deployment())
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(WaitStopped) as caught:
        kube.wait_for_rollout(
            "default",
            "web",
            timeout=30,
            poll_interval=5,
            check_stop=lambda: "cancelled" if stop.is_set() else None,
        )
    assert caught.value.reason == "cancelled"
    assert time.monotonic() - started < 1.5


def test_statefulset_and_daemonset_rollouts(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    fake_kube.rollout_delay = 0.1
    template = deployment()["spec"]["template"]
    kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db"},
            "spec": {
                "serviceName": "db",
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": template,
            },
        }
    )
    kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
        }
    )
    assert kube.wait_for_rollout("default", "db", "StatefulSet", timeout=5, poll_interval=0.05).done
    assert kube.wait_for_rollout("default", "agent", "DaemonSet", timeout=5, poll_interval=0.05).done
    with pytest.raises(KubeError) as caught:
        kube.wait_for_rollout("default", "ghost", timeout=1, poll_interval=0.05)
    assert caught.value.not_found


def test_read_secret_decodes_a_key(fake_kube: FakeKube, kube: KubeAdapter) -> None:
    encoded = base64.b64encode("s3cret-ü".encode()).decode()
    fake_kube.put(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": {"password": encoded}}
    )
    assert kube.read_secret("default", "db", "password") == "s3cret-ü"
    with pytest.raises(KubeError, match="has no key 'user'"):
        kube.read_secret("default", "db", "user")
    with pytest.raises(KubeError) as caught:
        kube.read_secret("default", "absent", "password")
    assert caught.value.not_found
