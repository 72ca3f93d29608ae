"""Manifest sets: parse YAML or lists into objects, order them for apply, and describe them safely."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

# Apply order: what others depend on comes first; routes come last so they never point at nothing.
_KIND_RANK = {
    "Namespace": 0,
    "CustomResourceDefinition": 1,
    "PriorityClass": 2,
    "StorageClass": 2,
    "ServiceAccount": 3,
    "ClusterRole": 4,
    "Role": 4,
    "ClusterRoleBinding": 5,
    "RoleBinding": 5,
    "ConfigMap": 6,
    "Secret": 6,  # nosec B105 - the apply rank of the kind Secret, not a password
    "PersistentVolume": 7,
    "PersistentVolumeClaim": 8,
    "Service": 9,
    "Pod": 10,
    "Deployment": 10,
    "StatefulSet": 10,
    "DaemonSet": 10,
    "ReplicaSet": 10,
    "Job": 10,
    "CronJob": 10,
    "HorizontalPodAutoscaler": 11,
    "PodDisruptionBudget": 11,
    "NetworkPolicy": 11,
    "ServiceMonitor": 11,
    "Gateway": 13,
    "Ingress": 14,
    "HTTPRoute": 14,
    "GRPCRoute": 14,
    "TCPRoute": 14,
}
# Custom resources usually need the workloads and CRDs above them.
_UNKNOWN_RANK = 12

# Kinds without a namespace, for describing a plan before any discovery happened.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "IngressClass",
        "GatewayClass",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    }
)


def parse_manifests(value: Any) -> list[dict[str, Any]]:
    """Objects from a YAML string (several documents), a mapping, or a list of mappings/YAML strings.

    `kind: List` documents are expanded into their items; empty documents are skipped.
    """
    if isinstance(value, str):
        try:
            documents = list(yaml.safe_load_all(value))
        except yaml.YAMLError as exc:
            raise ValueError(f"manifests are not valid YAML: {exc}") from exc
    elif isinstance(value, Mapping):
        documents = [value]
    elif isinstance(value, Sequence):
        documents = []
        for index, item in enumerate(value):
            if isinstance(item, str):
                documents.extend(parse_manifests(item))
            elif isinstance(item, Mapping):
                documents.append(item)
            else:
                raise ValueError(f"manifests[{index}] must be a mapping, not {type(item).__name__}")
    else:
        raise ValueError(f"manifests must be YAML text or a list of mappings, not {type(value).__name__}")
    objects: list[dict[str, Any]] = []
    for index, document in enumerate(documents):
        if document is None:
            continue
        if not isinstance(document, Mapping):
            raise ValueError(
                f"manifest document {index + 1} must be a mapping, not {type(document).__name__}"
            )
        if document.get("kind") == "List" and isinstance(document.get("items"), list):
            objects.extend(parse_manifests(document["items"]))
        else:
            objects.append(dict(document))
    return objects


def apply_order(manifests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Manifests sorted so dependencies come first; the original order is kept within a rank."""
    return [
        dict(m) for m in sorted(manifests, key=lambda m: _KIND_RANK.get(str(m.get("kind")), _UNKNOWN_RANK))
    ]


def object_ref(manifest: Mapping[str, Any], default_namespace: str | None = None) -> dict[str, Any]:
    """`{kind, name, namespace}` of a manifest — never its data, so it is safe to log and store."""
    metadata = manifest.get("metadata") or {}
    kind = str(manifest.get("kind") or "")
    namespace = None
    if kind not in CLUSTER_SCOPED_KINDS:
        namespace = metadata.get("namespace") or default_namespace or "default"
    return {"kind": kind, "name": str(metadata.get("name") or ""), "namespace": namespace}


def describe(ref: Mapping[str, Any]) -> str:
    """`Deployment demo/web` or `Namespace demo` for log lines."""
    where = f"{ref['namespace']}/{ref['name']}" if ref.get("namespace") else ref["name"]
    return f"{ref['kind']} {where}"
