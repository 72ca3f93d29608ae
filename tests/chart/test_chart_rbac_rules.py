"""The chart's RBAC declaration (chart/files/rbac-rules.yaml) covers every kind innominatus applies, and
the rendered Roles give each ServiceAccount only what it needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart.conftest import CHART_DIR, NAMESPACE, Chart
from tests.fakekube.discovery import RESOURCE_TYPES, ResourceType
from tests.fakekube.rbac import Attributes, Authorizer, service_account_user

REPO = Path(__file__).resolve().parents[2]
DECLARATION = CHART_DIR / "files" / "rbac-rules.yaml"
# Where innominatus itself writes manifests: built-in providers, golden paths, the deploy renderer
# (workflows/score/manifests.py) and the kubernetes step (its create_namespace).
SOURCES = ("workflows/providers/builtin", "workflows/goldenpaths", "workflows/score", "workflows/steps")
YAML_PAIR = re.compile(r"apiVersion:\s*\"?([\w./-]+)\"?\s*\n\s*-?\s*kind:\s*\"?(\w+)")
PYTHON_PAIR = re.compile(r"\"apiVersion\":\s*\"([\w./-]+)\",\s*\"kind\":\s*\"(\w+)\"")
OWN_KINDS = {"orchestrator.innominatus.dev/v1"}
# Objects a step sends to an outside system's API, never to the cluster with innominatus' account: the
# argocd-app step posts an Argo CD Application to Argo CD's REST API (Argo CD's own RBAC decides).
SENT_ELSEWHERE = {("argoproj.io/v1alpha1", "Application", "workflows/steps/gitops.py")}
# What a step does to each object: server-side apply (patch, and create when new), the ownership
# check and rollout wait (get), removal (delete).
STEP_VERBS = ("get", "create", "patch", "delete")
WEB = service_account_user(NAMESPACE, "innominatus")
WORKER = service_account_user(NAMESPACE, "innominatus-worker")


def applied_kinds() -> dict[tuple[str, str], set[str]]:
    """(apiVersion, kind) of every manifest innominatus' own files write, with the files."""
    found: dict[tuple[str, str], set[str]] = {}
    for source in SOURCES:
        for path in sorted((REPO / source).rglob("*")):
            # provider.yaml files describe providers to innominatus; their kind is no cluster object.
            if path.suffix not in (".yaml", ".py") or path.name == "provider.yaml":
                continue
            pattern = PYTHON_PAIR if path.suffix == ".py" else YAML_PAIR
            for api_version, kind in pattern.findall(path.read_text()):
                relative = str(path.relative_to(REPO))
                if api_version not in OWN_KINDS and (api_version, kind, relative) not in SENT_ELSEWHERE:
                    found.setdefault((api_version, kind), set()).add(relative)
    return found


def resource_type(api_version: str, kind: str) -> ResourceType:
    for rt in RESOURCE_TYPES:
        if rt.api_version == api_version and rt.kind == kind:
            return rt
    raise AssertionError(f"{kind} {api_version}: unknown kind (add it to tests/fakekube/discovery.py)")


def missing(declaration: dict[str, Any]) -> list[str]:
    """Kinds innominatus applies that the declaration does not grant every step verb for."""
    problems = []
    for (api_version, kind), files in sorted(applied_kinds().items()):
        rt = resource_type(api_version, kind)
        rules = declaration["workloads"] if rt.namespaced else declaration["cluster"]
        for verb in STEP_VERBS:
            allowed = any(
                rt.group in rule["apiGroups"] and rt.plural in rule["resources"] and verb in rule["verbs"]
                for rule in rules
            )
            if not allowed:
                problems.append(f"{verb} {rt.qualified} ({kind}, applied in {', '.join(sorted(files))})")
    return problems


def test_the_scan_finds_what_providers_golden_paths_and_deploys_apply() -> None:
    kinds = {kind for _, kind in applied_kinds()}
    # Deploys (Namespace, Deployment, Service, Secret, ConfigMap), postgres/mysql/redis (StatefulSet,
    # Job), namespace provider and ephemeral-env (ResourceQuota), volume (PVC), route (Ingress).
    assert {
        "Namespace",
        "Deployment",
        "Service",
        "Secret",
        "ConfigMap",
        "StatefulSet",
        "Job",
        "ResourceQuota",
        "PersistentVolumeClaim",
        "Ingress",
    } <= kinds


def test_the_declaration_covers_every_applied_kind() -> None:
    assert missing(yaml.safe_load(DECLARATION.read_text())) == []


def test_a_kind_left_out_of_the_declaration_fails() -> None:
    declaration = yaml.safe_load(DECLARATION.read_text())
    declaration["workloads"] = [r for r in declaration["workloads"] if "batch" not in r["apiGroups"]]
    problems = missing(declaration)
    assert problems and all("jobs.batch" in p for p in problems)
    assert "workflows/providers/builtin/postgres/workflows/apply.yaml" in problems[0]


def can(
    authorizer: Authorizer, user: str, verb: str, rt: ResourceType, namespace: str | None, name: str
) -> bool:
    return authorizer.allows(
        Attributes(user, verb, rt.group, rt.plural, namespace if rt.namespaced else None, name)
    )


@pytest.mark.parametrize("mode", ["default", "fixed"])
def test_the_worker_may_apply_every_kind_and_the_web_pods_nothing(chart: Chart, mode: str) -> None:
    listed = {"rbac.workloads.targetNamespaces[0]": "team-a-shop"} if mode == "fixed" else {}
    authorizer = Authorizer.from_manifests(chart.render(set_values=listed))
    for api_version, kind in applied_kinds():
        rt = resource_type(api_version, kind)
        name = "team-a-shop" if kind == "Namespace" else "shop"
        for verb in STEP_VERBS:
            assert can(authorizer, WORKER, verb, rt, "team-a-shop", name), f"worker cannot {verb} {kind}"
            assert not can(authorizer, WEB, verb, rt, "team-a-shop", name), f"web pods may {verb} {kind}"
        if mode == "fixed":
            other = "team-b-web"
            assert not can(authorizer, WORKER, "patch", rt, other, other), f"{kind} outside the list"
    secrets = resource_type("v1", "Secret")
    for namespace in (NAMESPACE, "team-a-shop", "kube-system"):
        for verb in ("create", "patch", "update", "delete", "list"):
            assert not can(authorizer, WEB, verb, secrets, namespace, "innominatus-db")
    # Reading: only the password Secrets by name, in the release namespace.
    assert can(authorizer, WEB, "get", secrets, NAMESPACE, "innominatus-db")
    assert can(authorizer, WEB, "get", secrets, NAMESPACE, "innominatus-db-new")
    assert not can(authorizer, WEB, "get", secrets, NAMESPACE, "innominatus-secrets")
    assert not can(authorizer, WEB, "get", secrets, "team-a-shop", "innominatus-db")


def test_fixed_namespaces_grant_nothing_cluster_wide_but_the_listed_namespaces(chart: Chart) -> None:
    manifests = chart.render(set_values={"rbac.workloads.targetNamespaces[0]": "team-a-shop"})
    cluster_roles = [m for m in manifests if m["kind"] == "ClusterRole"]
    assert [r["metadata"]["name"] for r in cluster_roles] == ["innominatus-platform-worker"]
    for rule in cluster_roles[0]["rules"]:
        assert rule["resources"] == ["namespaces"] and rule["resourceNames"] == ["team-a-shop"]
    binding = chart.find(manifests, "RoleBinding", "innominatus-workloads")
    assert binding["metadata"]["namespace"] == "team-a-shop"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "innominatus-worker", "namespace": NAMESPACE}
    ]


def test_each_component_runs_as_its_service_account(chart: Chart) -> None:
    manifests = chart.render(set_values={"backup.enabled": "true"})
    accounts = {
        ("Deployment", "innominatus"): "innominatus",
        ("Deployment", "innominatus-worker"): "innominatus-worker",
        ("CronJob", "innominatus-backup"): "innominatus",
        ("Job", "innominatus-migrate"): "innominatus-migrate",
    }
    for (kind, name), account in accounts.items():
        assert chart.pod_spec(chart.find(manifests, kind, name))["serviceAccountName"] == account
    extra = chart.render(
        set_values={
            "rbac.workloads.extraRules[0].apiGroups[0]": "example.com",
            "rbac.workloads.extraRules[0].resources[0]": "widgets",
            "rbac.workloads.extraRules[0].verbs[0]": "get",
        }
    )
    rules = chart.find(extra, "ClusterRole", "innominatus-platform-worker")["rules"]
    assert {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]} in rules
