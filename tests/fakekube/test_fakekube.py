"""The fake API server acts like kube-apiserver where the adapter relies on it, seen via the real client."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from tests.fakekube import FakeKube
from tests.fakekube.cluster import RELEASE_NAMESPACE, TEAM_A_NAMESPACE
from tests.fakekube.fields import merge_patch, parse_selector, selector_matches
from workflows.runtime.kube import KubeAdapter


@pytest.fixture
def api(fake_kube: FakeKube, tmp_path: Path) -> k8s.ApiClient:
    """A real ApiClient configured from a kubeconfig file that points at the fake server."""
    path = fake_kube.write_kubeconfig(tmp_path / "kubeconfig")
    return k8s_config.new_client_from_config(config_file=str(path), persist_config=False)


def deployment(
    name: str = "web", replicas: int = 2, image: str = "nginx:1.27", **labels: str
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }


def dynamic(api: k8s.ApiClient) -> DynamicClient:
    """The real DynamicClient, with discovery kept in memory (no cache file in /tmp)."""
    return KubeAdapter(api).dynamic


def ssa(api: k8s.ApiClient, body: dict[str, Any], manager: str = "innominatus", force: bool = True) -> Any:
    dyn = dynamic(api)
    resource = dyn.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    return resource.server_side_apply(
        body=body, namespace="default", field_manager=manager, force_conflicts=force or None
    ).to_dict()


def http_get(url: str, token: str | None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_discovery_documents_let_the_dynamic_client_find_every_served_kind(
    fake_kube: FakeKube, api: k8s.ApiClient
) -> None:
    dyn = dynamic(api)
    for rt in fake_kube.catalogue.types:
        resource = dyn.resources.get(api_version=rt.api_version, kind=rt.kind)
        assert (resource.name, resource.namespaced) == (rt.plural, rt.namespaced)
    assert k8s.VersionApi(api).get_code().git_version == "v1.37.0"
    status, groups = http_get(fake_kube.url + "/apis", fake_kube.token)
    assert status == 200 and "gateway.networking.k8s.io" in {g["name"] for g in groups["groups"]}


def test_requests_without_the_right_token_are_unauthorized(fake_kube: FakeKube) -> None:
    status, body = http_get(fake_kube.url + "/api/v1/namespaces", "wrong")
    assert status == 401 and body["kind"] == "Status" and body["reason"] == "Unauthorized"
    assert http_get(fake_kube.url + "/api/v1/namespaces", fake_kube.token)[0] == 200


def test_create_twice_is_409_already_exists_with_a_status_body(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    body = {"metadata": {"name": "settings"}, "data": {"a": "1"}}
    created = core.create_namespaced_config_map("default", body)
    assert created.metadata.uid and created.metadata.resource_version
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("default", body)
    status = json.loads(caught.value.body)
    assert caught.value.status == 409
    assert (status["reason"], status["message"]) == ("AlreadyExists", 'configmaps "settings" already exists')


def test_missing_objects_and_namespaces_are_404_not_found(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_secret("nope", "default")
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["message"] == 'secrets "nope" not found'
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("ghost", {"metadata": {"name": "x"}})
    assert json.loads(caught.value.body)["message"] == 'namespaces "ghost" not found'


def test_server_side_apply_creates_then_merges_and_records_the_field_manager(
    fake_kube: FakeKube, api: k8s.ApiClient
) -> None:
    first = ssa(api, deployment(replicas=2))
    assert first["metadata"]["generation"] == 1
    assert fake_kube.managers("Deployment", "web") == {"innominatus": "Apply"}
    request = next(r for r in fake_kube.requests if r.method == "PATCH")
    assert request.content_type == "application/apply-patch+yaml"
    assert request.query == {"fieldManager": "innominatus", "force": "true"}

    relabelled = ssa(api, deployment(replicas=2, app="web", tier="frontend"))
    assert relabelled["metadata"]["generation"] == 1, "a metadata-only change keeps the generation"
    scaled = ssa(api, deployment(replicas=3, app="web", tier="frontend"))
    assert scaled["metadata"]["generation"] == 2
    assert scaled["metadata"]["uid"] == first["metadata"]["uid"]
    assert int(scaled["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert scaled["metadata"]["creationTimestamp"] == first["metadata"]["creationTimestamp"]
    fields = scaled["metadata"]["managedFields"][0]["fieldsV1"]
    assert "f:replicas" in fields["f:spec"]


def test_apply_drops_fields_its_manager_no_longer_sets_but_keeps_other_managers_fields(
    fake_kube: FakeKube, api: k8s.ApiClient
) -> None:
    ssa(api, {**deployment(), "metadata": {"name": "web", "labels": {"app": "web", "old": "yes"}}})
    ssa(
        api,
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "a"}}},
        "ops",
    )
    ssa(api, deployment())
    labels = fake_kube.get_object("Deployment", "web")["metadata"]["labels"]  # type: ignore[index]
    assert labels == {"app": "web", "team": "a"}
    assert fake_kube.managers("Deployment", "web") == {"innominatus": "Apply", "ops": "Apply"}


def test_apply_conflicts_are_409_unless_forced(fake_kube: FakeKube, api: k8s.ApiClient) -> None:
    ssa(api, deployment(replicas=2), "innominatus")
    with pytest.raises(ApiException) as caught:
        ssa(api, deployment(replicas=5), "hpa-controller", force=False)
    assert caught.value.status == 409
    assert 'conflict with "innominatus": .spec.replicas' in json.loads(caught.value.body)["message"]
    ssa(api, deployment(replicas=5), "hpa-controller", force=True)
    assert fake_kube.get_object("Deployment", "web")["spec"]["replicas"] == 5  # type: ignore[index]


def test_apply_without_field_manager_is_rejected(fake_kube: FakeKube) -> None:
    request = urllib.request.Request(
        fake_kube.url + "/api/v1/namespaces/default/configmaps/x",
        data=json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}).encode(),
        method="PATCH",
        headers={
            "Authorization": f"Bearer {fake_kube.token}",
            "Content-Type": "application/apply-patch+yaml",
        },
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 422
    assert "fieldManager" in json.loads(caught.value.read())["message"]


def test_merge_patch_and_stale_replace(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    core.create_namespaced_config_map("default", {"metadata": {"name": "cm"}, "data": {"a": "1", "b": "2"}})
    patched = core.patch_namespaced_config_map("cm", "default", {"data": {"a": "10", "b": None}})
    assert patched.data == {"a": "10"}
    stale = {"metadata": {"name": "cm", "resourceVersion": "1"}, "data": {}}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("cm", "default", stale)
    assert caught.value.status == 409 and "the object has been modified" in caught.value.body


def test_list_filters_by_label_selector_and_namespace(fake_kube: FakeKube, api: k8s.ApiClient) -> None:
    fake_kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    for name, ns, labels in [
        ("a", "default", {"app": "x", "tier": "web"}),
        ("b", "default", {"app": "y"}),
        ("c", "other", {"app": "x"}),
    ]:
        fake_kube.put(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
            }
        )
    core = k8s.CoreV1Api(api)

    def names(**kwargs: Any) -> list[str]:
        if "namespace" in kwargs:
            return [i.metadata.name for i in core.list_namespaced_config_map(**kwargs).items]
        return [i.metadata.name for i in core.list_config_map_for_all_namespaces(**kwargs).items]

    assert names(label_selector="app=x") == ["a", "c"]
    assert names(namespace="default", label_selector="app=x") == ["a"]
    assert names(label_selector="app in (x,y),!tier") == ["b", "c"]
    assert names(namespace="default", label_selector="app!=x") == ["b"]
    assert names(namespace="default", field_selector="metadata.name=b") == ["b"]


def test_deleting_a_namespace_removes_everything_in_it(fake_kube: FakeKube, api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "doomed"}})
    core.create_namespaced_config_map("doomed", {"metadata": {"name": "cm"}})
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}})
    core.delete_namespace("doomed")
    assert fake_kube.objects(namespace="doomed") == []
    assert [o["metadata"]["name"] for o in fake_kube.objects("ConfigMap", "default")] == ["kept"]


def test_deployment_status_progresses_after_the_rollout_delay(
    fake_kube: FakeKube, api: k8s.ApiClient
) -> None:
    fake_kube.rollout_delay = 0.3
    apps = k8s.AppsV1Api(api)
    ssa(api, deployment(replicas=3))
    early = apps.read_namespaced_deployment("web", "default").status
    assert (early.observed_generation, early.updated_replicas, early.available_replicas) == (1, 3, 0)
    assert early.unavailable_replicas == 3
    time.sleep(0.35)
    done = apps.read_namespaced_deployment("web", "default").status
    assert (done.available_replicas, done.ready_replicas, done.unavailable_replicas) == (3, 3, None)


def test_never_ready_and_deadline_knobs(fake_kube: FakeKube, api: k8s.ApiClient) -> None:
    fake_kube.rollout_delay = 0
    fake_kube.never_ready("stuck")
    fake_kube.exceed_deadline("late")
    for name in ("stuck", "late", "fine"):
        ssa(api, deployment(name))
    apps = k8s.AppsV1Api(api)
    assert apps.read_namespaced_deployment("stuck", "default").status.available_replicas == 0
    conditions = apps.read_namespaced_deployment("late", "default").status.conditions
    assert any(c.reason == "ProgressDeadlineExceeded" for c in conditions)
    assert apps.read_namespaced_deployment("fine", "default").status.available_replicas == 2


def test_injected_failures_answer_once_then_the_server_recovers(
    fake_kube: FakeKube, api: k8s.ApiClient
) -> None:
    fake_kube.fail_next(403, method="GET", path_contains="/secrets", message="secrets is forbidden")
    core = k8s.CoreV1Api(api)
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_secret("default")
    assert caught.value.status == 403
    assert json.loads(caught.value.body)["reason"] == "Forbidden"
    assert core.list_namespaced_secret("default").items == []


def test_secret_string_data_is_stored_base64_encoded(fake_kube: FakeKube, api: k8s.ApiClient) -> None:
    ssa(
        api,
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "stringData": {"password": "pw"}},
    )
    stored = fake_kube.get_object("Secret", "db")
    assert stored is not None and "stringData" not in stored
    assert base64.b64decode(stored["data"]["password"]) == b"pw"


def test_selector_and_merge_helpers() -> None:
    requirements = parse_selector("env in (prod, staging), tier, !legacy, app==web")
    assert selector_matches(requirements, {"env": "prod", "tier": "x", "app": "web"})
    assert not selector_matches(requirements, {"env": "dev", "tier": "x", "app": "web"})
    assert not selector_matches(requirements, {"env": "prod", "tier": "x", "app": "web", "legacy": "1"})
    with pytest.raises(ValueError):
        parse_selector("a in b")
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": None}, "l": [2]}) == {
        "a": {"b": 1},
        "l": [2],
    }


def test_the_cluster_starts_realistic(fake_kube: FakeKube, api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    namespaces = {ns.metadata.name: ns.metadata.labels for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public", RELEASE_NAMESPACE, TEAM_A_NAMESPACE} <= set(namespaces)
    assert namespaces["kube-system"]["kubernetes.io/metadata.name"] == "kube-system"
    assert namespaces[TEAM_A_NAMESPACE]["innominatus.io/team"] == "team-a"
    secret = core.read_namespaced_secret("innominatus-secrets", RELEASE_NAMESPACE)
    assert secret.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    assert fake_kube.get_object("Deployment", "shop", TEAM_A_NAMESPACE) is not None


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_kubernetes_own_namespaces_may_not_be_deleted(
    fake_kube: FakeKube, api: k8s.ApiClient, name: str
) -> None:
    with pytest.raises(ApiException) as caught:
        k8s.CoreV1Api(api).delete_namespace(name)
    assert caught.value.status == 403
    assert "may not be deleted" in json.loads(caught.value.body)["message"]
    assert fake_kube.get_object("Namespace", name) is not None


def test_a_snapshot_changes_only_when_an_object_does(fake_kube: FakeKube, api: k8s.ApiClient) -> None:
    before = fake_kube.snapshot()
    k8s.CoreV1Api(api).read_namespaced_config_map("coredns", "kube-system")
    assert fake_kube.snapshot() == before
    k8s.CoreV1Api(api).patch_namespaced_config_map("coredns", "kube-system", {"data": {"x": "y"}})
    after = fake_kube.snapshot()
    assert [key for key in before if before[key] != after[key]] == ["ConfigMap kube-system/coredns"]
