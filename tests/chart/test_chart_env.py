"""Every variable of docs/configuration.md can be set through values.yaml, and the chart's env loads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "chart"
PRODUCTION_VALUES = str(CHART_DIR / "ci" / "production-values.yaml")
# The last section of configuration.md lists what the platform sets, which is not configuration.
PLATFORM_SECTION = "## Set by the platform or the server itself"
WORKLOADS = (
    ("Deployment", "innominatus", "server"),
    ("Deployment", "innominatus-worker", "worker"),
    ("Job", "innominatus-migrate", "migrate"),
)


def documented_variables() -> list[str]:
    """The variables in the tables of docs/configuration.md, minus the platform's own."""
    document = (REPO_ROOT / "docs" / "configuration.md").read_text()
    configuration, _, _ = document.partition(PLATFORM_SECTION)
    return re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", configuration, flags=re.MULTILINE)


def rendered_env_names(chart: Any, manifests: list[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for manifest in manifests:
        if manifest["kind"] in {"Deployment", "Job", "CronJob"}:
            for container in chart.pod_spec(manifest)["containers"]:
                names |= chart.env(container).keys()
    return names


def env_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((CHART_DIR / "values.schema.json").read_text())["properties"]["env"]
    return schema


def test_every_documented_variable_can_be_set_through_values(chart: Any) -> None:
    documented = documented_variables()
    assert len(documented) > 80 and "OIDC_SCOPES" in documented and "DJANGO_SETTINGS_MODULE" not in documented
    rendered = rendered_env_names(chart, chart.render()) | rendered_env_names(
        chart, chart.render(values_files=(PRODUCTION_VALUES,))
    )
    values_text = (CHART_DIR / "values.yaml").read_text()
    missing = [v for v in documented if v not in rendered and not re.search(rf"\b{v}\b", values_text)]
    assert not missing, f"neither rendered nor named in values.yaml: {missing}"
    # A variable is rendered, or has a dedicated value ("[VAR]" in its comment), or goes through the
    # `env` map, whose schema types it.
    dedicated = set(re.findall(r"\[([A-Z][A-Z0-9_]+)\]", values_text))
    typed = env_schema()["properties"].keys()
    untyped = [v for v in documented if v not in rendered | dedicated and v not in typed]
    assert not untyped, f"no dedicated value and not typed in values.schema.json env: {untyped}"
    assert not typed - set(documented), "the env schema types variables configuration.md lacks"


def test_dedicated_variables_are_reserved_in_the_env_map(chart: Any) -> None:
    """A variable with a dedicated value cannot be set twice through `env`."""
    reserved = set(env_schema()["propertyNames"]["not"]["enum"])
    production = chart.render(values_files=(PRODUCTION_VALUES,))
    rendered = rendered_env_names(chart, chart.render()) | rendered_env_names(chart, production)
    from_env_map = set(yaml.safe_load(Path(PRODUCTION_VALUES).read_text())["env"])
    assert rendered - from_env_map <= reserved
    assert not reserved & env_schema()["properties"].keys()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("env.SECRET_KEY", "x"),
        ("env.WORKER_METRICS_PORT", "9000"),
        ("env.RATE_LIMIT_USER", "5/min"),
        ("env.Q_TIMEOUT", "soon"),
        ("env.SECURE_SSL_REDIRECT", "maybe"),
        ("env.not-a-name", "1"),
        ("rateLimit.user", "lots"),
        ("worker.metricsPort", "70000"),
        ("oidc.timeout", "0"),
        ("cleanup.retentionDays", "0"),
        ("gunicorn.threads", "0"),
    ],
)
def test_schema_rejects_wrong_environment(helm: Any, key: str, value: str) -> None:
    result = helm(
        "template",
        "innominatus",
        str(CHART_DIR),
        "--set-string" if key.startswith("env.") else "--set",
        f"{key}={value}",
    )
    assert result.returncode != 0, f"{key}={value} was accepted"
    assert "schema" in result.stderr.lower(), result.stderr


def test_env_map_and_dedicated_values_reach_server_worker_and_migration(chart: Any, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    # Numbers as YAML numbers: helm reads them as floats, which must not print as 3.1536e+07.
    values.write_text(
        yaml.safe_dump(
            {
                "env": {"SECURE_HSTS_SECONDS": 31536000, "Q_POLL": 0.5, "TRUST_X_FORWARDED_PROTO": True},
                "gunicorn": {"maxRequests": 1000000, "threads": 4, "accessLog": True},
                "rateLimit": {"user": "off", "login": "10/min"},
                "cleanup": {"schedule": False, "retentionDays": 30},
                "database": {"connMaxAge": 0},
                "worker": {"stepLeaseSeconds": 60, "reaperIntervalSeconds": 20},
                "oidc": {
                    "enabled": True,
                    "issuer": "https://sso.example.com",
                    "clientId": "idp",
                    "audiences": ["idp", "cli"],
                    "timeout": 2.5,
                    "scopes": "openid email",
                },
            }
        )
    )
    manifests = chart.render(values_files=(str(values),))
    expected = {
        "SECURE_HSTS_SECONDS": "31536000",
        "Q_POLL": "0.5",
        "TRUST_X_FORWARDED_PROTO": "true",
        "GUNICORN_MAX_REQUESTS": "1000000",
        "GUNICORN_THREADS": "4",
        "GUNICORN_ACCESS_LOG": "true",
        "RATE_LIMIT_USER": "off",
        "RATE_LIMIT_ANON": "120/min",
        "RATE_LIMIT_LOGIN": "10/min",
        "CLEANUP_SCHEDULE": "false",
        "RETENTION_DAYS": "30",
        "DB_CONN_MAX_AGE": "0",
        "STEP_LEASE_SECONDS": "60",
        "REAPER_INTERVAL_SECONDS": "20",
        "OIDC_AUDIENCES": "idp,cli",
        "OIDC_TIMEOUT": "2.5",
        "OIDC_SCOPES": "openid email",
        "OIDC_SIGN_ALGORITHMS": "RS256",
        "BACKUP_SCHEDULE": "false",
    }
    for kind, name, container in WORKLOADS:
        env = chart.env(chart.container(chart.find(manifests, kind, name), container))
        assert {k: env.get(k) for k in expected} == expected, f"{kind}/{name}"


@pytest.mark.parametrize("scenario", ["default", "production"])
def test_rendered_environment_is_accepted_by_settings(chart: Any, tmp_path: Path, scenario: str) -> None:
    """The product's own readers accept what the chart renders (they fail loudly on bad values)."""
    files = (PRODUCTION_VALUES,) if scenario == "production" else ()
    manifests = chart.render(values_files=files)
    for kind, name, container in WORKLOADS[:2]:
        env = chart.env(chart.container(chart.find(manifests, kind, name), container))
        # Both read through the Kubernetes API at start-up (tests/chart/test_chart_rotation.py).
        cluster_only = ("DB_PASSWORD_SECRET", "DB_PASSWORD_SECRET_FROM")
        plain = {k: v for k, v in env.items() if isinstance(v, str) and k not in cluster_only}
        plain |= {
            "PATH": os.environ["PATH"],
            "SECRET_KEY": "chart-test-" + "x" * 50,
            "OIDC_CLIENT_SECRET": "s3cret",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            "HOME": str(tmp_path),
        }
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import innominatus.settings as s, innominatus.gunicorn_conf; print(s.PORT)",
            ],
            cwd=REPO_ROOT,
            env=plain,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"{kind}/{name}: {result.stderr[-2000:]}"
        assert result.stdout.strip() == "8081"
