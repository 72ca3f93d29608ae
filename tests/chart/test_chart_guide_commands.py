"""The operations guide's commands fit what the chart renders: psql in the pod, grep of a workflow's log
lines, and the password rotation with the default RBAC."""

from __future__ import annotations

import re
from typing import Any

from tests.chart.conftest import REPO_ROOT, Chart

GUIDE = (REPO_ROOT / "docs" / "operations.md").read_text()
COMPONENTS = (
    ("Deployment", "innominatus", "server"),
    ("Deployment", "innominatus-worker", "worker"),
    ("CronJob", "innominatus-backup", "backup"),
    ("Job", "innominatus-migrate", "migrate"),
)


def test_every_component_has_what_psql_needs(chart: Chart) -> None:
    manifests = chart.render(
        set_values={
            "backup.enabled": "true",
            "database.port": "6432",
            "database.sslmode": "verify-full",
            "database.tls.secretName": "db-ca",
        }
    )
    for kind, name, container in COMPONENTS:
        c = chart.container(chart.find(manifests, kind, name), container)
        env = chart.env(c)
        assert env["DB_HOST"] == "postgresql" and env["DB_USER"] == "innominatus", name
        assert env["PGPORT"] == "6432" and env["PGSSLMODE"] == "verify-full", name
        assert env["PGSSLROOTCERT"] == "/etc/innominatus-db-tls/ca.crt", name
        if name == "innominatus":
            # The password file lives on the writable /tmp emptyDir (the root filesystem is read-only).
            assert env["PGPASSFILE"].startswith("/tmp/"), name
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), name
        else:
            # Steps run as the worker's user: no password file where they could read it.
            assert "PGPASSFILE" not in env, name


def test_the_guide_gives_the_commands_verbatim() -> None:
    assert (
        'kubectl exec -n $NS deployment/innominatus -- psql -h $DB_HOST -U $DB_USER -d idp_orchestrator -c "SELECT 1;"'
        in GUIDE
    )
    assert "kubectl logs -n platform deployment/innominatus-worker | grep workflow_id=wf-123" in GUIDE
    assert "kubectl logs -n platform deployment/innominatus | grep workflow_id=wf-123" in GUIDE


def test_the_guides_rotation_uses_a_name_the_default_rbac_allows(chart: Chart) -> None:
    names = re.findall(r"set env deployment/innominatus DB_PASSWORD_SECRET=(\S+)", GUIDE)
    assert names == ["innominatus-db-new"]
    role = chart.find(chart.render(), "Role", "innominatus-db-password")
    secrets: list[Any] = next(r["resourceNames"] for r in role["rules"] if r["resources"] == ["secrets"])
    assert names[0] in secrets and "innominatus-db" in secrets
