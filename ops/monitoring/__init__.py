"""The Grafana dashboard and Prometheus alert rules: the source the Helm chart copies."""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def dashboard_path() -> Path:
    """grafana-dashboard.json."""
    return HERE / "grafana-dashboard.json"


def alert_rules_path() -> Path:
    """alert-rules.yaml."""
    return HERE / "alert-rules.yaml"
