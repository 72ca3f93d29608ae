"""The fake API server's RBAC: ServiceAccount tokens, Roles and bindings decide as kube-apiserver does, and a
denial is its 403 Status body."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakekube import FakeKube

USER = "system:serviceaccount:platform:deployer"


def call(
    fake: FakeKube, method: str, path: str, token: str, body: Any = None, content_type: str = ""
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(fake.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def role(kind: str, name: str, rules: list[dict[str, Any]], namespace: str | None = None) -> dict[str, Any]:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": metadata, "rules": rules}


def binding(kind: str, name: str, role_kind: str, namespace: str | None = None) -> dict[str, Any]:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "platform"}],
    }


@pytest.fixture
def fake() -> Iterator[FakeKube]:
    with FakeKube(rollout_delay=0) as running:
        for name in ("platform", "shop", "other"):
            running.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        running.enforce_rbac(
            [
                role(
                    "Role",
                    "apply-cm",
                    [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"]}],
                    "shop",
                ),
                binding("RoleBinding", "apply-cm", "Role", "shop"),
                role(
                    "ClusterRole",
                    "read-one",
                    [
                        {
                            "apiGroups": [""],
                            "resources": ["secrets"],
                            "resourceNames": ["db"],
                            "verbs": ["get"],
                        }
                    ],
                ),
                binding("RoleBinding", "read-one", "ClusterRole", "platform"),
            ]
        )
        yield running


def test_discovery_and_version_are_open_to_every_service_account(fake: FakeKube) -> None:
    token = fake.service_account_token("platform", "deployer")
    for path in ("/version", "/api", "/apis", "/api/v1"):
        assert call(fake, "GET", path, token)[0] == 200, path
    assert call(fake, "GET", "/version", "not-a-token")[0] == 401


def test_a_denial_is_the_api_servers_403(fake: FakeKube) -> None:
    token = fake.service_account_token("platform", "deployer")
    code, body = call(fake, "GET", "/api/v1/namespaces/shop/secrets/db", token)
    assert code == 403
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'secrets "db" is forbidden: User "{USER}" cannot get resource "secrets" in API group "" '
        'in the namespace "shop"',
        "reason": "Forbidden",
        "details": {"name": "db", "kind": "secrets"},
        "code": 403,
    }
    code, body = call(fake, "GET", "/apis/apps/v1/namespaces/shop/deployments", token)
    assert code == 403 and body["message"] == (
        f'deployments.apps is forbidden: User "{USER}" cannot list resource "deployments" in API group "apps" '
        'in the namespace "shop"'
    )
    assert body["details"] == {"kind": "deployments", "group": "apps"}
    code, body = call(fake, "GET", "/api/v1/namespaces/shop", token)
    assert code == 403 and body["message"].endswith(
        'cannot get resource "namespaces" in API group "" at the cluster scope'
    )


def test_bindings_grant_only_in_their_namespace_and_names(fake: FakeKube) -> None:
    token = fake.service_account_token("platform", "deployer")
    assert call(fake, "GET", "/api/v1/namespaces/platform/secrets/db", token)[0] == 404  # allowed, absent
    assert call(fake, "GET", "/api/v1/namespaces/platform/secrets/other", token)[0] == 403
    assert call(fake, "GET", "/api/v1/namespaces/other/secrets/db", token)[0] == 403
    assert call(fake, "GET", "/api/v1/namespaces/platform/secrets", token)[0] == 403  # names never allow list
    # The admin token keeps every right.
    assert call(fake, "GET", "/api/v1/namespaces/other/secrets", fake.token)[0] == 200


def test_an_apply_that_creates_needs_create_as_well(fake: FakeKube) -> None:
    token = fake.service_account_token("platform", "deployer")
    path = "/api/v1/namespaces/shop/configmaps/web?fieldManager=test"
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": {"a": "1"}}
    code, body = call(fake, "PATCH", path, token, manifest, "application/apply-patch+yaml")
    assert code == 403
    assert 'cannot create resource "configmaps" in API group "" in the namespace "shop"' in body["message"]
    fake.put({**manifest, "metadata": {"name": "web", "namespace": "shop"}})
    forced = path + "&force=true"  # data.a belongs to the set-up's manager
    code, body = call(
        fake, "PATCH", forced, token, {**manifest, "data": {"a": "2"}}, "application/apply-patch+yaml"
    )
    assert code == 200 and body["data"] == {"a": "2"}
