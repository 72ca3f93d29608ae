"""The dry run's promise: a spec it accepts deploys, a spec it refuses would fail to deploy.

Every Score file we have (the repository's samples, the README's example, and — where this machine has
them — the shared samples and the original project's files) plus variants made to fail is dry-run and
then submitted for real; the deploy runs in render-only mode (no cluster) with the worker in sync mode.
Dry run 200 => the deploy completes; dry run 400 => the submission is refused or the deploy fails, and
every refusal names the place in the spec.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.deploy.helpers import SAMPLES, failure_report, last_execution
from workflows.models import Application, ResourceInstance

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_cluster")]

ROOT = Path(__file__).resolve().parents[3]
SHARED = Path("/work/shared")


def _files() -> list[Path]:
    found = [*sorted(SAMPLES.glob("*.yaml")), ROOT / "examples" / "score.yaml"]
    # Outside the repository: used where present (the build machines), skipped on a fresh clone.
    found += sorted((SHARED / "score" / "samples").glob("*.yaml"))
    original = SHARED / "original-innominatus"
    if original.is_dir():
        found += sorted(
            path
            for path in original.rglob("*.yaml")
            if "apiVersion: score.dev" in path.read_text(errors="ignore")
        )
    return found


FILES = _files()

ENVIRONMENT = """apiVersion: score.dev/v1b1
metadata: {name: env-app}
containers:
  main:
    image: busybox
    variables:
      NAME: ${resources.env.NAME}
resources:
  env: {type: environment}
"""
DB = """apiVersion: score.dev/v1b1
metadata: {name: db-app}
containers:
  main:
    image: busybox
    variables:
      HOST: ${resources.db.host}
      USER: ${resources.db.username}
      WHAT: ${resources.db.KEY}
resources:
  db: {type: postgres}
"""
ROUTE = """apiVersion: score.dev/v1b1
metadata: {name: route-app}
service:
  ports:
    web: {port: 8080}
containers:
  main: {image: nginx}
resources:
  dns: {type: dns}
  route:
    type: route
    params: {host: "${resources.dns.host}", path: /, port: PORT}
"""

# (name, text, admin-config environment): variants that must fail (or pass) in both dry run and deploy.
VARIANTS = {
    "environment value missing": (ENVIRONMENT, {}),
    "environment value set by the platform": (ENVIRONMENT, {"NAME": "World"}),
    "environment value set by the application": (ENVIRONMENT + "environment:\n  NAME: Dev\n", {}),
    "output that postgres does not have": (DB, {}),
    "outputs that postgres has": (DB.replace("${resources.db.KEY}", "${resources.db.port}"), {}),
    "route params from another resource": (ROUTE.replace("PORT", "web"), {}),
    "route without the port it needs": (ROUTE.replace(", port: PORT", ""), {}),
    "route host that is not a DNS name": (ROUTE.replace('"${resources.dns.host}"', "Not_A_Host"), {}),
    "param referring to an unknown output": (
        ROUTE.replace("${resources.dns.host}", "${resources.dns.nope}"),
        {},
    ),
}


def attempt(api: APIClient, text: str) -> tuple[Any, bool, str]:
    """(dry run response, whether the real deploy went through, why not)."""
    dry = api.post("/api/applications?dry_run=true", data=text, content_type="application/yaml")
    assert dry.status_code in (200, 400, 409), dry.content
    if dry.status_code != 200:
        errors = dry.json().get("errors") or []
        assert errors and all(error.get("path") is not None for error in errors), dry.json()
    real = api.post("/api/applications", data=text, content_type="application/yaml")
    if real.status_code != 201:
        return dry, False, f"submission answered {real.status_code}: {real.content[:500]!r}"
    execution = last_execution(real.json()["plan"]["application"])
    execution.refresh_from_db()
    return dry, execution.status == "completed", failure_report(execution)


def check(dry: Any, deployed: bool, report: str) -> None:
    if dry.status_code == 200:
        assert deployed, f"the dry run accepted it, the deploy failed:\n{report}"
    else:
        assert not deployed, f"the dry run refused it ({dry.json()}), the deploy did not"


def _id(path: Path) -> str:
    return str(path).replace(str(SHARED), "shared").replace(str(ROOT), "repo")


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_a_file_the_dry_run_accepts_deploys(api: APIClient, platform: Any, path: Path) -> None:
    dry, deployed, report = attempt(api, path.read_text())
    check(dry, deployed, report)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_dry_run_refuses_what_the_deploy_refuses(api: APIClient, admin_config: Any, name: str) -> None:
    text, environment = VARIANTS[name]
    admin_config({"deploy": {"baseDomain": "apps.test"}, "environment": environment})
    dry, deployed, report = attempt(api, text)
    check(dry, deployed, report)
    expected_ok = name.startswith(("environment value set", "outputs that", "route params"))
    assert (dry.status_code == 200) == expected_ok, dry.json()


def test_refusals_name_the_field_and_its_line(api: APIClient, admin_config: Any) -> None:
    admin_config({"deploy": {"baseDomain": "apps.test"}})
    body = api.post("/api/applications?dry_run=true", data=ENVIRONMENT, content_type="application/yaml")
    assert body.status_code == 400 and body["Content-Type"] == "application/problem+json"
    [error] = body.json()["errors"]
    assert error["path"] == "containers.main.variables.NAME" and error["line"] == 7
    assert error["code"] == "placeholder-unresolvable" and "'NAME' not found" in error["message"]
    assert not Application.objects.exists() and not ResourceInstance.objects.exists()


def test_the_documented_fix_works_on_an_existing_application(api: APIClient, admin_config: Any) -> None:
    """Deployed without the value (the deploy fails), then given it through the `environment` extension:
    the dry run plans an update of the environment resource, and the deploy takes the new value."""
    admin_config({"deploy": {"baseDomain": "apps.test"}})
    first = api.post("/api/applications", data=ENVIRONMENT, content_type="application/yaml")
    assert first.status_code == 201
    assert last_execution("env-app").status == "failed"
    fixed = ENVIRONMENT + "environment:\n  NAME: Dev\n"
    dry = api.post("/api/applications?dry_run=true", data=fixed, content_type="application/yaml")
    assert dry.status_code == 200, dry.json()
    assert [(r["name"], r["action"]) for r in dry.json()["plan"]["resources"]] == [("env", "update")]
    deployment = dry.json()["deployment"]
    env = deployment["manifests"][-1]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "NAME", "value": "Dev"} in env
    dry, deployed, report = attempt(api, fixed)
    assert deployed, report
    assert ResourceInstance.objects.get(resource_name="env").outputs == {"NAME": "Dev"}


def test_a_shared_resource_is_planned_as_reused(api: APIClient, platform: Any) -> None:
    shared = DB.replace("db: {type: postgres}", "db: {type: postgres, id: team-db}").replace(
        "${resources.db.KEY}", "${resources.db.port}"
    )
    assert api.post("/api/applications", data=shared, content_type="application/yaml").status_code == 201
    assert last_execution("db-app").status == "completed"
    other = shared.replace("name: db-app", "name: other-app")
    dry = api.post("/api/applications?dry_run=true", data=other, content_type="application/yaml").json()
    assert [(r["name"], r["action"]) for r in dry["plan"]["resources"]] == [("db", "reuse")]
    assert dry["deployment"]["resources"][0]["reused"] is True
    real = api.post("/api/applications", data=other, content_type="application/yaml").json()
    assert [(r["name"], r["action"]) for r in real["plan"]["resources"]] == [("db", "reuse")]
    execution = last_execution("other-app")
    assert execution.status == "completed", failure_report(execution)
    # Reusing starts no provisioning: the deploy has no provision step for it.
    assert list(execution.steps.values_list("name", flat=True)) == ["deploy"]
    # Removing it from the spec only releases it: db-app still uses it.
    alone = other.replace("      HOST: ${resources.db.host}\n      USER: ${resources.db.username}\n", "")
    alone = (
        alone.replace("      WHAT: ${resources.db.port}\n", "")
        .replace("    variables:\n", "")
        .replace("resources:\n  db: {type: postgres, id: team-db}\n", "resources: {}\n")
    )
    dry = api.post("/api/applications?dry_run=true", data=alone, content_type="application/yaml")
    assert dry.status_code == 200, dry.json()
    assert [(r["name"], r["action"]) for r in dry.json()["plan"]["resources"]] == [("db", "release")]
