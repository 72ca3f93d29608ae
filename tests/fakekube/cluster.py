"""What a real cluster holds before innominatus touches it: Kubernetes' own namespaces and objects, the
release namespace with innominatus's own Deployment, ConfigMap and Secret (installed by Helm), and
another team's application deployed by innominatus (team-a's `shop`, labelled as innominatus labels)."""

from __future__ import annotations

import base64
from typing import Any

RELEASE_NAMESPACE = "innominatus"
TEAM_A = "team-a"
TEAM_A_APP = "shop"
TEAM_A_NAMESPACE = "team-a-shop"
PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})

HELM = {
    "app.kubernetes.io/managed-by": "Helm",
    "app.kubernetes.io/name": "innominatus",
    "app.kubernetes.io/instance": "innominatus",
    "app": "innominatus",
}
TEAM_A_LABELS = {
    "app.kubernetes.io/managed-by": "innominatus",
    "innominatus.io/team": TEAM_A,
    "innominatus.io/application": TEAM_A_APP,
}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _deployment(name: str, namespace: str, labels: dict[str, str], image: str) -> dict[str, Any]:
    selector = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": {**labels, **selector}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def seed_objects() -> list[dict[str, Any]]:
    """The objects of a realistic cluster, in create order (namespaces first)."""
    team_a_db = {
        **TEAM_A_LABELS,
        "innominatus.io/resource-uid": "team-a-db",
        "app.kubernetes.io/name": "postgres",
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": RELEASE_NAMESPACE, "labels": HELM}},
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": TEAM_A_NAMESPACE, "labels": TEAM_A_LABELS},
        },
        # Kubernetes' own objects.
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": ".:53 {\n    forward . /etc/resolv.conf\n}\n"},
        },
        _deployment(
            "coredns", "kube-system", {"k8s-app": "kube-dns"}, "registry.k8s.io/coredns/coredns:v1.11.1"
        ),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {
                "selector": {"k8s-app": "kube-dns"},
                "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cluster-info", "namespace": "kube-public"},
            "data": {"kubeconfig": "apiVersion: v1\nkind: Config\n"},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver"}},
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 6443, "protocol": "TCP"}]},
        },
        # innominatus itself, as the Helm chart installs it.
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "innominatus", "namespace": RELEASE_NAMESPACE, "labels": HELM},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "innominatus-config", "namespace": RELEASE_NAMESPACE, "labels": HELM},
            "data": {"admin-config.yaml": "deploy:\n  baseDomain: apps.example.com\n"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "innominatus-secrets", "namespace": RELEASE_NAMESPACE, "labels": HELM},
            "type": "Opaque",
            "data": {"SECRET_KEY": _b64("release-secret-key"), "DB_PASSWORD": _b64("release-db-password")},
        },
        _deployment("innominatus", RELEASE_NAMESPACE, HELM, "ghcr.io/innominatus/innominatus:1.0.0"),
        # team-a's application `shop`, deployed by innominatus: workload and its private database.
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "shop-secrets", "namespace": TEAM_A_NAMESPACE, "labels": TEAM_A_LABELS},
            "type": "Opaque",
            "data": {"env.shop.DATABASE_URL": _b64("postgresql://shop:team-a-password@shop-db:5432/shop")},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "shop", "namespace": TEAM_A_NAMESPACE, "labels": TEAM_A_LABELS},
            "spec": {"selector": {"app.kubernetes.io/name": "shop"}, "ports": [{"name": "web", "port": 80}]},
        },
        _deployment("shop", TEAM_A_NAMESPACE, TEAM_A_LABELS, "registry.example.com/team-a/shop:2.3.1"),
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "shop-db", "namespace": TEAM_A_NAMESPACE, "labels": team_a_db},
            "type": "Opaque",
            "data": {"username": _b64("shop"), "password": _b64("team-a-password")},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data-shop-db-0", "namespace": TEAM_A_NAMESPACE, "labels": team_a_db},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        },
    ]
