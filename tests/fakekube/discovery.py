"""The fake API server's resource catalogue and the discovery documents built from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: where it lives, its kind, and whether objects belong to a namespace."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    # Workloads ignore `status` in writes to the main resource, like a real status subresource.
    has_status: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name the API server uses in messages: "deployments.apps", "configmaps"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_resource(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.kind.lower(),
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": VERBS,
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        return entry


def _rt(api_version: str, plural: str, kind: str, **extra: Any) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    return ResourceType(group, version, plural, kind, **extra)


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    _rt("v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",), has_status=True),
    _rt("v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _rt("v1", "secrets", "Secret"),
    _rt("v1", "services", "Service", short_names=("svc",), has_status=True),
    _rt("v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _rt("v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), has_status=True),
    _rt("v1", "persistentvolumes", "PersistentVolume", namespaced=False, short_names=("pv",)),
    _rt("v1", "pods", "Pod", short_names=("po",), has_status=True),
    _rt("v1", "resourcequotas", "ResourceQuota", short_names=("quota",), has_status=True),
    _rt("v1", "limitranges", "LimitRange", short_names=("limits",)),
    _rt("apps/v1", "deployments", "Deployment", short_names=("deploy",), has_status=True),
    _rt("apps/v1", "statefulsets", "StatefulSet", short_names=("sts",), has_status=True),
    _rt("apps/v1", "daemonsets", "DaemonSet", short_names=("ds",), has_status=True),
    _rt("batch/v1", "jobs", "Job", has_status=True),
    _rt("batch/v1", "cronjobs", "CronJob", short_names=("cj",), has_status=True),
    _rt("networking.k8s.io/v1", "ingresses", "Ingress", short_names=("ing",), has_status=True),
    _rt("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",)),
    _rt("autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",)),
    _rt("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", short_names=("pdb",)),
    _rt("rbac.authorization.k8s.io/v1", "roles", "Role"),
    _rt("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding"),
    _rt("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", namespaced=False),
    _rt("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    _rt("apiextensions.k8s.io/v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False),
    _rt("gateway.networking.k8s.io/v1", "httproutes", "HTTPRoute"),
    _rt("gateway.networking.k8s.io/v1", "gateways", "Gateway", short_names=("gtw",)),
    _rt("monitoring.coreos.com/v1", "servicemonitors", "ServiceMonitor"),
)


class Catalogue:
    """Lookup of resource types by URL segments and by apiVersion/kind."""

    def __init__(self, types: tuple[ResourceType, ...] = RESOURCE_TYPES) -> None:
        self.types = types
        self._by_path = {(t.group, t.version, t.plural): t for t in types}
        self._by_kind = {(t.api_version, t.kind): t for t in types}

    def by_path(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((api_version, kind))

    def group_versions(self) -> dict[str, list[str]]:
        """Named groups (not the core group) and their versions, in catalogue order."""
        groups: dict[str, list[str]] = {}
        for t in self.types:
            if t.group and t.version not in groups.setdefault(t.group, []):
                groups[t.group].append(t.version)
        return groups

    def has_group_version(self, group: str, version: str) -> bool:
        return any(t.group == group and t.version == version for t in self.types)


def version_info(git_version: str) -> dict[str, Any]:
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions() -> dict[str, Any]:
    """GET /api."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }


def api_group_list(catalogue: Catalogue) -> dict[str, Any]:
    """GET /apis."""
    groups = []
    for name, versions in catalogue.group_versions().items():
        entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        groups.append({"name": name, "versions": entries, "preferredVersion": entries[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(catalogue: Catalogue, group: str) -> dict[str, Any] | None:
    """GET /apis/<group>."""
    versions = catalogue.group_versions().get(group)
    if not versions:
        return None
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_resource_list(catalogue: Catalogue, group: str, version: str) -> dict[str, Any]:
    """GET /api/v1 or /apis/<group>/<version>, with status subresources listed as the real server does."""
    resources: list[dict[str, Any]] = []
    for t in catalogue.types:
        if t.group == group and t.version == version:
            resources.append(t.api_resource())
            if t.has_status:
                status = {"name": f"{t.plural}/status", "singularName": "", "namespaced": t.namespaced}
                resources.append({**status, "kind": t.kind, "verbs": ["get", "patch", "update"]})
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
