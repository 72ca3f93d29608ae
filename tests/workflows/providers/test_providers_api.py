"""The providers API, reloads that reach every process, and reports from external resource owners."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from tests.fakekube import FakeKube
from tests.workflows.providers.helpers import write_provider
from workflows.choices import ExecutionStatus, ResourceKind, ResourceState
from workflows.models import ProviderGeneration, ResourceInstance, WorkflowExecution
from workflows.providers.registry import current_registry
from workflows.services import submit_spec
from workflows.services.external import report_external_state
from workflows.services.resource_values import stored_secrets

Config = Callable[[dict[str, Any]], Path]


@pytest.mark.django_db
def test_list_retrieve_and_stats(api: APIClient, developer: Any) -> None:
    listed = api.get("/api/providers")
    assert listed.status_code == 200
    names = [item["name"] for item in listed.json()["results"]]
    assert {"postgres", "redis", "route", "s3"} <= set(names)
    postgres = api.get("/api/providers/postgres").json()
    assert postgres["resource_types"] == ["postgres", "postgresql"]
    capability = next(c for c in postgres["capabilities"] if c["type"] == "postgres")
    assert capability["outputs"]["password"] == {"secret": True}
    assert capability["operations"]["create"]["workflow"] == "postgres-apply"
    assert api.get("/api/providers/nope").status_code == 404

    submit_spec(text=SPEC, content_type="application/yaml", user=developer)
    stats = api.get("/api/providers/stats").json()
    assert stats["providers"]["postgres"]["types"] == {"postgres": {"requested": 1}}
    assert stats["providers"]["postgres"]["total"] == 1 and stats["total"] == 2
    assert stats["providers"]["s3"] == {"total": 0, "types": {}}


SPEC = """
apiVersion: score.dev/v1b1
metadata: {name: stats-demo}
containers: {main: {image: busybox}}
resources:
  db: {type: postgres}
  cache: {type: redis}
"""


@pytest.mark.django_db
def test_reload_is_for_admins_and_reports_broken_providers(
    api: APIClient, admin_api: APIClient, tmp_path: Path, admin_config: Config, settings: Any
) -> None:
    config = admin_config({})
    assert api.post("/api/admin/providers/reload").status_code == 403
    first = admin_api.post("/api/admin/providers/reload")
    assert first.status_code == 200
    generation = first.json()["generation"]
    assert "postgres" in first.json()["resource_types"]
    assert ProviderGeneration.objects.get(pk=1).reloaded_by == "platform-admin"

    # A configured provider claiming a built-in's type replaces the built-in for it (the original's way).
    write_provider(tmp_path, "cache-team", ["redis"])
    write_provider(tmp_path, "dup-team", ["redis"])
    config.write_text(
        yaml.safe_dump({"providers": [str(tmp_path / "cache-team"), str(tmp_path / "dup-team")]})
    )
    tolerant = admin_api.post("/api/admin/providers/reload")
    assert tolerant.status_code == 200
    assert current_registry().provider_for("redis").name == "cache-team"
    # Two configured providers claiming one type: the later one is disabled, with the reason.
    reason = tolerant.json()["disabled"]["dup-team"]
    assert "resource type 'redis' is claimed by both provider 'cache-team'" in reason
    listed = {item["name"]: item for item in admin_api.get("/api/providers?page_size=100").json()["results"]}
    assert listed["dup-team"]["enabled"] is False and listed["dup-team"]["disabled_reason"] == reason
    assert listed["redis"]["replaced_types"] == {"redis": "cache-team"}
    # The portal's providers page says the same: which provider is disabled, why, and who serves redis.
    portal = Client()
    portal.force_login(User.objects.get(username="platform-admin"))
    page = portal.get("/providers")
    assert page.status_code == 200
    assert page.context["disabled"] == [("dup-team", reason)]
    assert page.context["replaced"] == [("redis", "cache-team", "redis")]
    assert "data-disabled-providers" in page.content.decode()
    generation = ProviderGeneration.objects.get(pk=1).generation

    settings.PROVIDERS_STRICT = True
    broken = admin_api.post("/api/admin/providers/reload")
    assert broken.status_code == 422
    assert "resource type 'redis' is claimed by both provider 'cache-team'" in broken.json()["detail"]
    assert "provider 'dup-team'" in broken.json()["detail"]
    # Nothing changed: no generation was announced, and this process keeps the working set.
    assert ProviderGeneration.objects.get(pk=1).generation == generation
    assert current_registry().provider_for("redis").name == "cache-team"


@pytest.mark.django_db
def test_every_process_follows_a_reload_by_generation(tmp_path: Path, admin_config: Config) -> None:
    config = admin_config({})
    assert "widget" not in current_registry().known_types()
    write_provider(tmp_path, "widget-team", ["widget"])
    config.write_text(yaml.safe_dump({"providers": [str(tmp_path / "widget-team")]}))
    # This process keeps its registry until some process (another replica) announces a reload …
    assert "widget" not in current_registry().known_types()
    ProviderGeneration.objects.update_or_create(pk=1, defaults={"generation": 7})
    # … and follows as soon as it sees the newer generation.
    assert "widget" in current_registry().known_types()


EXTERNAL = """  resourceTypeCapabilities:
    mainframe-db:
      kind: external
      outputs: {host: {}, password: {secret: true}}"""
EXTERNAL_SPEC = """
apiVersion: score.dev/v1b1
metadata: {name: legacy}
containers:
  main:
    image: busybox
    variables:
      DB: "db://${resources.db.host}?pw=${resources.db.password}"
resources:
  db: {type: mainframe-db}
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fake_kubeconfig")
def test_an_external_resource_waits_for_its_owners_report(
    developer: Any, fake_kube: FakeKube, tmp_path: Path, admin_config: Config
) -> None:
    write_provider(tmp_path, "mainframe-team", ["mainframe-db"], capabilities=EXTERNAL)
    admin_config({"providers": [str(tmp_path / "mainframe-team")]})

    def owner_reports() -> None:
        try:
            for _ in range(200):
                found = ResourceInstance.objects.filter(resource_type="mainframe-db").first()
                if found is not None and found.state == ResourceState.PROVISIONING:
                    report_external_state(
                        resource=found,
                        state=ResourceState.ACTIVE,
                        reason="ticket OPS-1 done",
                        outputs={"host": "mf.corp", "password": "mainframe-secret-1"},
                        reference_url="https://tickets.example/OPS-1",
                        user=developer,
                    )
                    return
                time.sleep(0.05)
        finally:
            connection.close()

    reporter = threading.Thread(target=owner_reports)
    reporter.start()
    result = submit_spec(text=EXTERNAL_SPEC, content_type="application/yaml", user=developer)
    reporter.join(timeout=30)
    execution = WorkflowExecution.objects.get(app_name="legacy")
    assert execution.status == ExecutionStatus.COMPLETED, execution.error_message
    db = ResourceInstance.objects.get(app_name="legacy")
    assert db.kind == ResourceKind.EXTERNAL and db.state == ResourceState.ACTIVE
    assert db.outputs == {"host": "mf.corp", "password": "********"}
    assert stored_secrets(db)["password"] == "mainframe-secret-1"
    assert db.reference_url == "https://tickets.example/OPS-1"
    assert db.transitions.last().reason == "ticket OPS-1 done"
    env = fake_kube.get_object("Deployment", "legacy", "team-a-legacy")["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    assert env[0]["valueFrom"]["secretKeyRef"]["name"] == "legacy-secrets"
    assert result.application.name == "legacy"


@pytest.mark.django_db
def test_external_state_endpoint_validates_transitions(
    api: APIClient, developer: Any, make_user: Any
) -> None:
    from tests.workflows.api.factories import make_application

    app = make_application(developer, "legacy-api")
    resource = ResourceInstance.objects.create(
        application=app, app_name=app.name, resource_name="ext", resource_type="mainframe-db", kind="external"
    )
    url = f"/api/resources/{resource.pk}/external-state"
    assert (
        api.post(url, {"state": "active"}, format="json").status_code == 409
    )  # requested -> active is not allowed
    moved = api.post(url, {"state": "provisioning", "reason": "ordered"}, format="json")
    assert moved.status_code == 200 and moved.json()["state"] == "provisioning"
    done = api.post(url, {"state": "active", "outputs": {"host": "h"}}, format="json")
    assert done.json()["state"] == "active" and done.json()["outputs"] == {"host": "h"}
    assert api.post(url, {"state": "melted"}, format="json").status_code == 400
    native = ResourceInstance.objects.create(
        application=app, app_name=app.name, resource_name="db", resource_type="postgres"
    )
    assert (
        api.post(f"/api/resources/{native.pk}/external-state", {"state": "active"}, format="json").status_code
        == 409
    )
    stranger = APIClient()
    stranger.force_authenticate(make_user("eve", team="team-b"))
    assert stranger.post(url, {"state": "degraded"}, format="json").status_code == 404
