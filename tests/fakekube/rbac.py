"""RBAC as kube-apiserver's authorizer decides it, from Roles, ClusterRoles and their bindings.

The objects usually come from `helm template` output of the chart, so that a test deploys with exactly
the permissions an installation gets. A denial is the API server's own 403 Status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .discovery import ResourceType
from .store import ApiError

RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def service_account_user(namespace: str, name: str) -> str:
    """The user name Kubernetes gives a ServiceAccount's token."""
    return f"system:serviceaccount:{namespace}:{name}"


@dataclass(frozen=True)
class Attributes:
    """What a resource request asks: `verb` on `resource` (with "/subresource") of `group`."""

    user: str
    verb: str
    group: str
    resource: str
    namespace: str | None
    name: str | None


def _groups(user: str) -> set[str]:
    groups = {"system:authenticated"}
    parts = user.split(":")
    if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
        groups |= {"system:serviceaccounts", f"system:serviceaccounts:{parts[2]}"}
    return groups


def _matches(rule: Mapping[str, Any], attrs: Attributes) -> bool:
    def has(key: str, value: str) -> bool:
        listed = rule.get(key) or []
        return "*" in listed or value in listed

    if not (has("verbs", attrs.verb) and has("apiGroups", attrs.group) and has("resources", attrs.resource)):
        return False
    names = rule.get("resourceNames") or []
    # resourceNames only ever match a request that names its object (never list, watch or POST-create).
    return not names or (bool(attrs.name) and attrs.name in names)


@dataclass
class Authorizer:
    """The RBAC objects of a cluster and the decision `allows(attributes)`."""

    roles: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    cluster_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    bindings: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_manifests(cls, manifests: Iterable[Mapping[str, Any]]) -> Authorizer:
        authorizer = cls()
        for manifest in manifests:
            authorizer.add(manifest)
        return authorizer

    def add(self, manifest: Mapping[str, Any]) -> None:
        kind = manifest.get("kind")
        metadata = manifest.get("metadata") or {}
        if kind == "Role":
            self.roles[(metadata.get("namespace", "default"), metadata["name"])] = list(
                manifest.get("rules") or []
            )
        elif kind == "ClusterRole":
            self.cluster_roles[metadata["name"]] = list(manifest.get("rules") or [])
        elif kind in ("RoleBinding", "ClusterRoleBinding"):
            self.bindings.append(dict(manifest))

    def _subject_is(self, subject: Mapping[str, Any], user: str, binding_namespace: str | None) -> bool:
        kind = subject.get("kind")
        if kind == "ServiceAccount":
            namespace = subject.get("namespace") or binding_namespace or ""
            return user == service_account_user(namespace, str(subject.get("name")))
        if kind == "User":
            return user == subject.get("name")
        if kind == "Group":
            return subject.get("name") in _groups(user)
        return False

    def _rules(self, binding: Mapping[str, Any]) -> list[dict[str, Any]]:
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "ClusterRole":
            return self.cluster_roles.get(str(ref.get("name")), [])
        namespace = (binding.get("metadata") or {}).get("namespace", "default")
        return self.roles.get((namespace, str(ref.get("name"))), [])

    def allows(self, attrs: Attributes) -> bool:
        for binding in self.bindings:
            namespace = (binding.get("metadata") or {}).get("namespace")
            if binding["kind"] == "RoleBinding" and namespace != attrs.namespace:
                continue  # a RoleBinding grants only inside its own namespace
            if not any(self._subject_is(s, attrs.user, namespace) for s in binding.get("subjects") or []):
                continue
            if any(_matches(rule, attrs) for rule in self._rules(binding)):
                return True
        return False


def forbidden(attrs: Attributes, rt: ResourceType) -> ApiError:
    """The 403 the API server answers, word for word."""
    what = f'{rt.qualified} "{attrs.name}"' if attrs.name else rt.qualified
    where = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    message = (
        f'{what} is forbidden: User "{attrs.user}" cannot {attrs.verb} resource "{attrs.resource}" '
        f'in API group "{attrs.group}" {where}'
    )
    details: dict[str, Any] = {"kind": rt.plural}
    if attrs.name:
        details["name"] = attrs.name
    if rt.group:
        details["group"] = rt.group
    return ApiError(403, "Forbidden", message, details)


def request_verb(method: str, name: str | None, query: Mapping[str, str]) -> str:
    """The RBAC verb of an HTTP request on a resource URL."""
    if method == "GET":
        if name:
            return "get"
        return "watch" if query.get("watch", "").lower() in ("1", "true") else "list"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())
