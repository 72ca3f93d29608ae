"""The Grafana dashboard and alert rules: served by the API, valid, consistent with /metrics, and
copied byte-for-byte into the Helm chart."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from ops.monitoring import HERE, alert_rules_path, dashboard_path

REPO = Path(__file__).resolve().parents[2]
CHART_COPIES = {
    dashboard_path(): REPO / "chart" / "files" / "grafana-dashboard.json",
    alert_rules_path(): REPO / "chart" / "files" / "alert-rules.yaml",
}
REQUIRED_PANELS = [
    "Uptime",
    "Workflow totals",
    "Workflow success rate",
    "HTTP requests and errors",
    "Workflow executions",
    "Workflow duration",
    "Database queries",
    "Memory",
    "CPU",
]
ALERTS = {
    "InnominatusDown",
    "HighWorkflowFailureRate",
    "DatabaseConnectionIssue",
    "WorkflowsStuck",
    "NoLiveWorker",
    "WorkWaitingForWorkers",
    "HighHTTPErrorRate",
}
# Series that only Prometheus itself produces.
PROMETHEUS_SERIES = {"up"}


def _dashboard() -> dict[str, Any]:
    return json.loads(dashboard_path().read_text())


def _metric_names(expression: str) -> set[str]:
    names = set(re.findall(r"\b((?:innominatus|process)_[a-z_]+|up)\s*[{\[(]", expression))
    return {re.sub(r"_(bucket|sum|count)$", "", name) if "duration" in name else name for name in names}


def _exported(client: Client) -> set[str]:
    """Every family name /metrics can expose (counters as name_total, histograms without suffix)."""
    names = set()
    for family in text_string_to_metric_families(client.get("/metrics").content.decode()):
        names.add(family.name)
        names.add(family.name + "_total")
    from ops.metrics import definitions

    for metric in vars(definitions).values():
        if hasattr(metric, "_name") and hasattr(metric, "_type"):
            names.add(metric._name + ("_total" if metric._type == "counter" else ""))
    return names


def test_the_dashboard_has_the_documented_panels() -> None:
    dashboard = _dashboard()
    titles = [panel["title"] for panel in dashboard["panels"] if panel["type"] != "row"]
    for title in REQUIRED_PANELS:
        assert title in titles
    assert dashboard["uid"] == "innominatus"
    assert all(panel.get("targets") for panel in dashboard["panels"] if panel["type"] != "row")


@pytest.mark.django_db
def test_every_metric_the_dashboard_and_alerts_query_is_exported(client: Client) -> None:
    exported = _exported(client) | PROMETHEUS_SERIES
    expressions = [target["expr"] for panel in _dashboard()["panels"] for target in panel.get("targets", [])]
    rules = yaml.safe_load(alert_rules_path().read_text())
    expressions += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    used = set().union(*(_metric_names(expression) for expression in expressions))
    assert used - exported == set()
    assert "innominatus_workflows_executed_total" in used


def test_the_alert_rules_define_the_documented_alerts() -> None:
    rules = yaml.safe_load(alert_rules_path().read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert names == ALERTS


def _promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing in CI (apt-get install prometheus)")
        pytest.skip("promtool not installed (Debian package prometheus); CI installs it")
    return tool


def test_promtool_accepts_the_rules_and_their_unit_tests() -> None:
    tool = _promtool()
    check = subprocess.run([tool, "check", "rules", str(alert_rules_path())], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 7 rules found" in check.stdout + check.stderr
    tests = subprocess.run(
        [tool, "test", "rules", "alert-rules.test.yaml"], cwd=HERE, capture_output=True, text=True
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr


@pytest.mark.parametrize(("source", "copy"), list(CHART_COPIES.items()), ids=lambda p: Path(p).name)
def test_the_chart_ships_byte_identical_copies(source: Path, copy: Path) -> None:
    assert copy.exists(), f"the chart must ship {copy.relative_to(REPO)}"
    assert copy.read_bytes() == source.read_bytes(), f"cp {source.relative_to(REPO)} {copy.relative_to(REPO)}"


@pytest.mark.django_db
def test_the_dashboard_is_served_to_authenticated_users_only(api: APIClient) -> None:
    assert APIClient().get("/api/grafana/dashboards/innominatus").status_code in (401, 403)
    response = api.get("/api/grafana/dashboards/innominatus")
    assert response.status_code == 200
    assert response.json() == _dashboard()
