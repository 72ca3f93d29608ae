"""ServiceMonitor, PrometheusRule, alert rules (promtool) and the Grafana dashboard."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_FILE = REPO_ROOT / "chart" / "files" / "alert-rules.yaml"
RULES_TESTS = Path(__file__).with_name("alert-rules.test.yaml")
DASHBOARD_FILE = REPO_ROOT / "chart" / "files" / "grafana-dashboard.json"
ALERTS = {
    "InnominatusDown",
    "HighWorkflowFailureRate",
    "DatabaseConnectionIssue",
    "WorkflowsStuck",
    "NoLiveWorker",
    "WorkWaitingForWorkers",
    "HighHTTPErrorRate",
}
MONITORING = {
    "serviceMonitor.enabled": "true",
    "prometheusRule.enabled": "true",
    "grafanaDashboard.enabled": "true",
}


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing in CI (apt-get install prometheus)")
        pytest.skip("promtool not installed (Debian package `prometheus`); CI installs it")
    return path


def test_service_monitor_scrapes_metrics_of_server_pods(chart: Any) -> None:
    manifests = chart.render(
        set_values={**MONITORING, "serviceMonitor.labels.release": "kube-prometheus-stack"}
    )
    monitor = chart.find(manifests, "ServiceMonitor", "innominatus")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    service = chart.find(manifests, "Service", "innominatus")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["platform"]}
    [endpoint] = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("http", "/metrics", "30s")
    # The alert rules select job="innominatus"; the relabeling guarantees it for any release name.
    assert {"action": "replace", "targetLabel": "job", "replacement": "innominatus"} in endpoint[
        "relabelings"
    ]


def test_pod_monitor_scrapes_worker_metrics_port(chart: Any) -> None:
    manifests = chart.render(
        set_values={**MONITORING, "serviceMonitor.labels.release": "kube-prometheus-stack"}
    )
    monitor = chart.find(manifests, "PodMonitor", "innominatus-worker")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    worker = chart.find(manifests, "Deployment", "innominatus-worker")
    pod_labels = worker["spec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    server_labels = chart.find(manifests, "Deployment", "innominatus")["spec"]["template"]["metadata"][
        "labels"
    ]
    assert not monitor["spec"]["selector"]["matchLabels"].items() <= server_labels.items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["platform"]}
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("metrics", "/metrics", "30s")
    # The port the endpoint names exists on the worker container and matches WORKER_METRICS_PORT.
    container = chart.container(worker, "worker")
    [port] = [p for p in container["ports"] if p["name"] == "metrics"]
    assert str(port["containerPort"]) == chart.env(container)["WORKER_METRICS_PORT"] == "9108"
    assert {"action": "replace", "targetLabel": "job", "replacement": "innominatus-worker"} in endpoint[
        "relabelings"
    ]
    # Off with the ServiceMonitor, without workers, or without a metrics port.
    for extra in (
        {"serviceMonitor.enabled": "false"},
        {"worker.enabled": "false"},
        {"worker.metricsPort": "0"},
    ):
        assert "PodMonitor/innominatus-worker" not in chart.names(
            chart.render(set_values={**MONITORING, **extra})
        )


def test_prometheus_rule_carries_the_rules_file(chart: Any) -> None:
    manifests = chart.render(set_values=MONITORING)
    rule = chart.find(manifests, "PrometheusRule", "innominatus")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load(RULES_FILE.read_text())
    alerts = {r["alert"] for group in rule["spec"]["groups"] for r in group["rules"]}
    assert alerts == ALERTS
    for group in rule["spec"]["groups"]:
        for r in group["rules"]:
            assert r["labels"]["severity"] in {"critical", "warning"}
            assert r["annotations"]["summary"] and r["annotations"]["description"]


def test_alert_rules_use_documented_metrics() -> None:
    text = RULES_FILE.read_text()
    for metric in (
        "up",
        "innominatus_workflows_failed_total",
        "innominatus_workflows_executed_total",
        "innominatus_health_check_latency_ms",
        "innominatus_db_query_errors_total",
        "innominatus_workflows_stuck",
        "innominatus_workers_alive",
        "innominatus_steps_waiting_too_long",
        "innominatus_queue_oldest_wait_seconds",
        "innominatus_http_errors_total",
        "innominatus_http_requests_total",
    ):
        assert re.search(rf"\b{metric}\{{", text), metric


def test_promtool_check_rules() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(ALERTS)} rules found" in result.stdout


def test_promtool_alerts_fire_on_synthetic_series() -> None:
    """Each alert fires on series that should trigger it, and stays quiet on healthy ones."""
    result = subprocess.run(
        [_promtool(), "test", "rules", RULES_TESTS.name],
        cwd=RULES_TESTS.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", RULES_TESTS.read_text()))
    assert tested == ALERTS


def test_grafana_dashboard_config_map(chart: Any) -> None:
    manifests = chart.render(
        set_values={**MONITORING, "grafanaDashboard.annotations.grafana_folder": "Platform"}
    )
    config_map = chart.find(manifests, "ConfigMap", "innominatus-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "Platform"}
    assert json.loads(config_map["data"]["innominatus.json"]) == json.loads(DASHBOARD_FILE.read_text())


def test_dashboard_panels_cover_the_metrics() -> None:
    dashboard = json.loads(DASHBOARD_FILE.read_text())
    assert dashboard["uid"] and dashboard["title"]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    titles = {p["title"] for p in panels}
    assert {
        "Uptime",
        "Workflow totals",
        "Workflow success rate",
        "HTTP requests and errors",
        "Workflow executions",
        "Workflow duration",
        "Database queries",
        "Memory",
        "CPU",
    } <= titles
    exprs = " ".join(t["expr"] for p in panels for t in p["targets"])
    for metric in (
        "innominatus_uptime_seconds",
        "innominatus_workflows_executed_total",
        "innominatus_workflows_succeeded_total",
        "innominatus_workflows_failed_total",
        "innominatus_http_requests_total",
        "innominatus_http_errors_total",
        "innominatus_workflow_duration_seconds_bucket",
        # The mean over all pods, from the histogram (the per-pod _avg gauge cannot be aggregated).
        "innominatus_workflow_duration_seconds_sum",
        "innominatus_db_queries_total",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
    ):
        assert metric in exprs, metric
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    # Panels must not overlap on Grafana's 24-column grid.
    cells: set[tuple[int, int]] = set()
    for p in dashboard["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
        area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not area & cells, p["title"]
        cells |= area


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel query as a recording rule expression."""
    promtool = _promtool()
    dashboard = json.loads(DASHBOARD_FILE.read_text())
    rules = [
        {
            "record": f"dashboard:panel{p['id']}:{t['refId']}",
            "expr": t["expr"].replace("$namespace", ".*").replace("$__range", "1h"),
        }
        for p in dashboard["panels"]
        if p["type"] != "row"
        for t in p["targets"]
    ]
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_runbook_links_point_at_operations_guide_sections() -> None:
    guide = (REPO_ROOT / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", guide, flags=re.M)
    }
    runbooks = re.findall(r"runbook: docs/operations\.md#([\w-]+)", RULES_FILE.read_text())
    assert len(runbooks) == len(ALERTS)
    assert set(runbooks) <= anchors, set(runbooks) - anchors
