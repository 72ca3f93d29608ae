"""values.yaml is documented and values.schema.json rejects wrong values before anything renders."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "chart"
ENV_VARS = (
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_PASSWORD",
    "DB_NAME",
    "DB_SSLMODE",
    "DB_PASSWORD_SECRET",
    "PORT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "OIDC_ENABLED",
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_REDIRECT_URL",
    "PUSHGATEWAY_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "TRUSTED_PROXIES",
    "REDIS_URL",
    "GUNICORN_WORKERS",
    "GUNICORN_TIMEOUT",
    "Q_WORKERS",
    "ADMIN_CONFIG",
    "BACKUP_DIR",
    "DEBUG",
    "DB_CONNECT_TIMEOUT",
    "DB_CONN_MAX_AGE",
    "GUNICORN_THREADS",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_ACCESS_LOG",
    "GUNICORN_WORKER_TMP_DIR",
    "STEP_LEASE_SECONDS",
    "REAPER_INTERVAL_SECONDS",
    "WORKER_METRICS_PORT",
    "RATE_LIMIT_USER",
    "RATE_LIMIT_ANON",
    "RATE_LIMIT_ADDRESS",
    "RATE_LIMIT_LOGIN",
    "OIDC_SCOPES",
    "OIDC_PROVIDER_NAME",
    "OIDC_TEAMS_CLAIM",
    "OIDC_ROLES_CLAIM",
    "OIDC_AUDIENCES",
    "OIDC_SIGN_ALGORITHMS",
    "OIDC_ACCEPT_OPAQUE_TOKENS",
    "OIDC_USE_USERINFO",
    "OIDC_TIMEOUT",
    "OIDC_VERIFY_SSL",
    "OIDC_DISCOVERY_CACHE_SECONDS",
    "OIDC_USERINFO_CACHE_SECONDS",
    "BACKUP_KEEP",
    "BACKUP_SCHEDULE",
    "CLEANUP_SCHEDULE",
    "RETENTION_DAYS",
)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("replicaCount", "abc"),
        ("autoscaling.minReplicas", "three"),
        ("autoscaling.targetCPUUtilizationPercentage", "170"),
        ("server.port", "http"),
        ("config.logFormat", "xml"),
        ("database.sslmode", "sometimes"),
        ("image.pullPolicy", "Sometimes"),
        ("backup.schedule", "daily"),
        ("notAValue", "1"),
        ("server.livenessProbe.periodSeconds", "-1"),
    ],
)
def test_schema_rejects_wrong_values(helm: Any, key: str, value: str) -> None:
    result = helm("template", "innominatus", str(CHART_DIR), "--set", f"{key}={value}")
    assert result.returncode != 0, f"--set {key}={value} was accepted"
    assert "schema" in result.stderr.lower(), result.stderr


def test_schema_rejects_wrong_type_in_values_file(helm: Any, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text('config:\n  debug: "yes"\n')
    result = helm("lint", "--strict", str(CHART_DIR), "-f", str(values))
    assert result.returncode != 0
    assert "debug" in result.stdout + result.stderr


def test_schema_accepts_string_quantities_and_percentages(helm: Any) -> None:
    result = helm(
        "template",
        "innominatus",
        str(CHART_DIR),
        "--set",
        "podDisruptionBudget.maxUnavailable=50%",
        "--set",
        "server.resources.limits.memory=2Gi",
        "--set",
        "tmpSizeLimit=512Mi",
        "--set",
        "secrets.secretKey=values-test-secret-key",
    )
    assert result.returncode == 0, result.stderr


def _keys(node: Any, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return []
    out = []
    for key, value in node.items():
        out.append(f"{prefix}{key}")
        out += _keys(value, f"{prefix}{key}.")
    return out


def _schema_has(schema: dict[str, Any], path: str) -> bool:
    node = schema
    for part in path.split("."):
        if "properties" not in node:
            return True  # a free-form object (adminConfig, resources, strategy, affinity, ...)
        if part not in node["properties"]:
            return False
        node = node["properties"][part]
    return True


def test_schema_describes_every_value() -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    missing = [k for k in _keys(values) if not _schema_has(schema, k)]
    assert not missing


def test_every_value_has_a_comment() -> None:
    """Every leaf key carries a comment, or sits below a key documented as a whole ("# --")."""
    lines = (CHART_DIR / "values.yaml").read_text().splitlines()
    key_re = re.compile(r"^(\s*)([A-Za-z_][\w.-]*):")
    entries = []  # (indent, line number, key, comment directly above)
    for number, line in enumerate(lines):
        match = key_re.match(line)
        if not match:
            continue
        block = []  # the comment block directly above, first line first
        for previous in reversed(lines[:number]):
            if not previous.strip().startswith("#"):
                break
            block.insert(0, previous.strip())
        entries.append((len(match.group(1)), number, match.group(2), block[0] if block else ""))
    undocumented = []
    stack: list[tuple[int, str]] = []  # (indent, comment) of the enclosing keys
    for position, (indent, number, key, comment) in enumerate(entries):
        while stack and stack[-1][0] >= indent:
            stack.pop()
        covered = any(c.startswith("# --") for _, c in stack)
        has_children = position + 1 < len(entries) and entries[position + 1][0] > indent
        if not (comment or covered or has_children):
            undocumented.append(f"{number + 1}: {key}")
        stack.append((indent, comment))
    assert not undocumented, "values without a comment: " + ", ".join(undocumented)


def test_every_environment_variable_is_mirrored_and_documented() -> None:
    values_text = (CHART_DIR / "values.yaml").read_text()
    docs = (REPO_ROOT / "docs" / "installation.md").read_text()
    templates = "".join(p.read_text() for p in (CHART_DIR / "templates").glob("*.tpl"))
    for var in ENV_VARS:
        assert f"[{var}]" in values_text, f"values.yaml does not name {var}"
        assert f"`{var}`" in docs, f"docs/installation.md does not document {var}"
        assert f"name: {var}" in templates, f"the chart never sets {var}"
