"""The chart lints, renders valid Kubernetes objects and reproduces the operations guide's targets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

CHART_DIR = Path(__file__).resolve().parents[2] / "chart"
PRODUCTION_VALUES = str(CHART_DIR / "ci" / "production-values.yaml")

# Oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schema installed.
KUBE_VERSIONS = ("1.27", latest_version())
# Custom resources have no schema in kubernetes-validate; their structure is asserted elsewhere.
CRD_GROUPS = ("monitoring.coreos.com/",)

SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "production": {"values_files": (PRODUCTION_VALUES,)},
    "no-autoscaling": {"set_values": {"autoscaling.enabled": "false"}},
    "ingress": {
        "set_values": {
            "ingress.enabled": "true",
            "ingress.className": "nginx",
            "ingress.tls[0].secretName": "innominatus-tls",
            "ingress.tls[0].hosts[0]": "innominatus.example.com",
        }
    },
    "monitoring": {
        "set_values": {
            "serviceMonitor.enabled": "true",
            "prometheusRule.enabled": "true",
            "grafanaDashboard.enabled": "true",
        }
    },
    "backups": {"set_values": {"backup.enabled": "true"}},
    "network-policy": {"set_values": {"networkPolicy.enabled": "true"}},
    "fixed-namespaces-rbac": {
        "set_values": {
            "rbac.workloads.targetNamespaces[0]": "team-a-shop",
            "database.passwordSecret": "innominatus-db",
        }
    },
    "existing-secret": {"set_values": {"secrets.existingSecret": "my-secrets"}},
    "minimal": {
        "set_values": {
            "worker.enabled": "false",
            "migrations.enabled": "false",
            "podDisruptionBudget.enabled": "false",
            "autoscaling.enabled": "false",
            "serviceAccount.create": "false",
            "rbac.create": "false",
        }
    },
}


def test_lint_strict_defaults(helm: Callable[..., Any]) -> None:
    # `helm lint` renders like `helm template`: no cluster, so a key must be given.
    result = helm("lint", "--strict", str(CHART_DIR), "--set", "secrets.secretKey=lint-secret-key")
    assert result.returncode == 0, result.stdout + result.stderr


def test_lint_strict_production_values(helm: Callable[..., Any]) -> None:
    result = helm("lint", "--strict", str(CHART_DIR), "-f", PRODUCTION_VALUES, "--namespace", "platform")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_object_passes_kubernetes_schema(chart: Any, scenario: str) -> None:
    manifests = chart.render(**SCENARIOS[scenario])
    assert manifests, "nothing rendered"
    checked = set()
    for manifest in manifests:
        if manifest["apiVersion"].startswith(CRD_GROUPS):
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(p) for p in error.path)
                pytest.fail(
                    f"{manifest['kind']}/{manifest['metadata']['name']} ({version}): {path}: {error.message}"
                )
        checked |= chart.names([manifest])
    assert {"Deployment/innominatus", "Service/innominatus", "ConfigMap/innominatus-config"} <= checked


def test_default_objects(chart: Any) -> None:
    names = chart.names(chart.render())
    expected = {
        "Deployment/innominatus",
        "Deployment/innominatus-worker",
        "Service/innominatus",
        "ConfigMap/innominatus-config",
        "Secret/innominatus-secrets",
        "ServiceAccount/innominatus",
        "ServiceAccount/innominatus-worker",
        "HorizontalPodAutoscaler/innominatus-hpa",
        "PodDisruptionBudget/innominatus",
        "PodDisruptionBudget/innominatus-worker",
        "Job/innominatus-migrate",
    }
    assert expected <= names
    # Optional parts stay off by default.
    off = {"Ingress", "NetworkPolicy", "CronJob", "ServiceMonitor", "PrometheusRule"}
    assert not {n.split("/")[0] for n in names} & off


def test_namespace_platform(chart: Any) -> None:
    cluster_scoped = {"ClusterRole", "ClusterRoleBinding"}
    manifests = chart.render(set_values={"rbac.workloads.targetNamespaces[0]": "team-a"})
    for manifest in manifests:
        if manifest["kind"] in cluster_scoped:
            continue
        expected = "team-a" if manifest["metadata"]["name"] == "innominatus-workloads" else "platform"
        assert manifest["metadata"]["namespace"] == expected, chart.names([manifest])


def test_server_deployment_matches_guide(chart: Any) -> None:
    deployment = chart.find(chart.render(), "Deployment", "innominatus")
    pod = deployment["spec"]["template"]
    assert pod["metadata"]["labels"]["app"] == "innominatus"
    for key in (
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/version",
        "app.kubernetes.io/component",
        "app.kubernetes.io/managed-by",
    ):
        assert key in pod["metadata"]["labels"], key
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()

    server = chart.container(deployment, "server")
    assert server["ports"] == [{"name": "http", "containerPort": 8081, "protocol": "TCP"}]
    assert server["args"] == ["gunicorn", "-c", "python:innominatus.gunicorn_conf", "innominatus.wsgi"]
    liveness, readiness = server["livenessProbe"], server["readinessProbe"]
    assert liveness["httpGet"] == {"path": "/livez", "port": "http"}
    assert (
        liveness["initialDelaySeconds"],
        liveness["periodSeconds"],
        liveness["timeoutSeconds"],
        liveness["failureThreshold"],
    ) == (30, 10, 5, 3)
    assert readiness["httpGet"] == {"path": "/ready", "port": "http"}
    assert (
        readiness["initialDelaySeconds"],
        readiness["periodSeconds"],
        readiness["timeoutSeconds"],
        readiness["failureThreshold"],
    ) == (5, 5, 3, 2)
    assert set(server["resources"]["requests"]) == {"cpu", "memory"}
    assert set(server["resources"]["limits"]) == {"cpu", "memory"}


def test_server_is_hardened_and_stops_gracefully(chart: Any) -> None:
    deployment = chart.find(chart.render(), "Deployment", "innominatus")
    pod_spec = chart.pod_spec(deployment)
    assert pod_spec["securityContext"]["runAsNonRoot"] is True
    assert pod_spec["securityContext"]["runAsUser"] == 10001
    assert pod_spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    server = chart.container(deployment, "server")
    security = server["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"]: m["name"] for m in server["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    # The preStop sleep must fit in the grace period together with a full gunicorn timeout.
    sleep = int(server["lifecycle"]["preStop"]["exec"]["command"][1])
    timeout = int(chart.env(server)["GUNICORN_TIMEOUT"])
    assert sleep > 0
    assert pod_spec["terminationGracePeriodSeconds"] > sleep + timeout


def test_service_selects_only_server_pods(chart: Any) -> None:
    manifests = chart.render()
    service = chart.find(manifests, "Service", "innominatus")
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8081, "targetPort": "http", "protocol": "TCP"}
    ]
    selector = service["spec"]["selector"].items()
    server_labels = chart.find(manifests, "Deployment", "innominatus")["spec"]["template"]["metadata"][
        "labels"
    ]
    worker_labels = chart.find(manifests, "Deployment", "innominatus-worker")["spec"]["template"]["metadata"][
        "labels"
    ]
    assert selector <= server_labels.items()
    assert not selector <= worker_labels.items()


def test_worker_deployment(chart: Any) -> None:
    manifests = chart.render(set_values={"worker.replicaCount": "4", "worker.qWorkers": "3"})
    worker = chart.find(manifests, "Deployment", "innominatus-worker")
    assert worker["spec"]["replicas"] == 4
    c = chart.container(worker, "worker")
    assert c.get("command", []) + c.get("args", []) == ["python", "manage.py", "worker"]
    assert chart.env(c)["Q_WORKERS"] == "3"
    assert worker["spec"]["template"]["metadata"]["labels"]["app"] == "innominatus-worker"
    # Probe and metrics ports only: the worker serves no traffic, and the server has no metrics port.
    assert c["ports"] == [
        {"name": "probe", "containerPort": 9109, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9108, "protocol": "TCP"},
    ]
    assert chart.env(c)["WORKER_METRICS_PORT"] == "9108"
    server = chart.container(chart.find(manifests, "Deployment", "innominatus"), "server")
    assert "WORKER_METRICS_PORT" not in chart.env(server)
    off = chart.container(
        chart.find(chart.render(set_values={"worker.metricsPort": "0"}), "Deployment", "innominatus-worker"),
        "worker",
    )
    assert [port["name"] for port in off["ports"]] == ["probe"]
    assert chart.env(off)["WORKER_METRICS_PORT"] == "0"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    disabled = chart.render(set_values={"worker.enabled": "false"})
    assert "Deployment/innominatus-worker" not in chart.names(disabled)
    assert "PodDisruptionBudget/innominatus-worker" not in chart.names(disabled)


def test_worker_probes_and_grace_period_fit_the_drain_time(chart: Any, helm: Any) -> None:
    manifests = chart.render(
        set_values={"worker.drainSeconds": "200", "worker.terminationGracePeriodSeconds": "230"}
    )
    worker = chart.find(manifests, "Deployment", "innominatus-worker")
    c = chart.container(worker, "worker")
    env = chart.env(c)
    assert env["WORKER_DRAIN_SECONDS"] == "200" and env["WORKER_PROBE_PORT"] == "9109"
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 230
    assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "probe"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probe"}
    assert c["livenessProbe"]["failureThreshold"] * c["livenessProbe"]["periodSeconds"] >= 30
    # Web pods read the same progress threshold for /health and the waiting-steps gauge.
    server = chart.container(chart.find(manifests, "Deployment", "innominatus"), "server")
    assert chart.env(server)["WORKER_STALL_SECONDS"] == env["WORKER_STALL_SECONDS"] == "30"
    assert "WORKER_DRAIN_SECONDS" not in chart.env(server)
    # A grace period the drain does not fit in is refused, not rendered.
    result = helm(
        "template",
        "innominatus",
        str(CHART_DIR),
        "--set",
        "worker.drainSeconds=200",
        "--set",
        "worker.terminationGracePeriodSeconds=210",
    )
    assert result.returncode != 0 and "drainSeconds + 15" in result.stderr


def test_hpa_defaults_and_toggle(chart: Any) -> None:
    manifests = chart.render()
    hpa = chart.find(manifests, "HorizontalPodAutoscaler", "innominatus-hpa")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "innominatus",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert hpa["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
        }
    ]
    # The HPA owns the replica count; a fixed one would fight it on every upgrade.
    assert "replicas" not in chart.find(manifests, "Deployment", "innominatus")["spec"]

    fixed = chart.render(set_values={"autoscaling.enabled": "false", "replicaCount": "2"})
    assert "HorizontalPodAutoscaler/innominatus-hpa" not in chart.names(fixed)
    assert chart.find(fixed, "Deployment", "innominatus")["spec"]["replicas"] == 2

    memory = chart.render(set_values={"autoscaling.targetMemoryUtilizationPercentage": "80"})
    metrics = chart.find(memory, "HorizontalPodAutoscaler", "innominatus-hpa")["spec"]["metrics"]
    assert {m["resource"]["name"] for m in metrics} == {"cpu", "memory"}


def test_pod_disruption_budgets(chart: Any) -> None:
    manifests = chart.render()
    pdb = chart.find(manifests, "PodDisruptionBudget", "innominatus")
    labels = chart.find(manifests, "Deployment", "innominatus")["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_config_map_mounted_as_admin_config(chart: Any) -> None:
    manifests = chart.render(set_values={"adminConfig.admin.defaultCostCenter": "platform-team"})
    config = chart.find(manifests, "ConfigMap", "innominatus-config")
    admin = yaml.safe_load(config["data"]["admin-config.yaml"])
    assert admin["admin"]["defaultCostCenter"] == "platform-team"
    for name in ("innominatus", "innominatus-worker"):
        deployment = chart.find(manifests, "Deployment", name)
        c = chart.pod_spec(deployment)["containers"][0]
        assert chart.env(c)["ADMIN_CONFIG"] == "/etc/innominatus/admin-config.yaml"
        mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/etc/innominatus")
        volume = next(v for v in chart.pod_spec(deployment)["volumes"] if v["name"] == mount["name"])
        assert volume["configMap"]["name"] == "innominatus-config"


def test_config_change_rolls_pods(chart: Any) -> None:
    def checksum(manifests: list[dict[str, Any]]) -> str:
        pod = chart.find(manifests, "Deployment", "innominatus")["spec"]["template"]
        return str(pod["metadata"]["annotations"]["checksum/config"])

    before = checksum(chart.render())
    after = checksum(chart.render(set_values={"adminConfig.workflowPolicies.maxStepsPerWorkflow": "20"}))
    assert before != after
