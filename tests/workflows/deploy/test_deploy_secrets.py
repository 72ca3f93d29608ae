"""Secret outputs never show: not in step logs (even when a provider prints them), not in API bodies,
not in admin pages, not in Python log records; they are encrypted at rest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.workflows.deploy.helpers import failure_report, last_execution, ns, sample, submit
from workflows.choices import ExecutionStatus
from workflows.models import Application, ResourceInstance, StepExecution, StepLog, WorkflowExecution
from workflows.services.resource_values import stored_secrets

pytestmark = pytest.mark.django_db(transaction=True)

LEAKY_PROVIDER = """
apiVersion: v1
kind: Provider
metadata: {name: leaky-team, version: 1.0.0}
compatibility: {minCoreVersion: 1.0.0}
capabilities:
  resourceTypes: [leaky]
  resourceTypeCapabilities:
    leaky:
      generate: {token: {kind: password, length: 32}}
      outputs: {token: {secret: true}, url: {}}
workflows:
  - {name: leaky-create, file: create.yaml, category: provisioner, operation: create, tags: [leaky]}
  - {name: leaky-delete, file: delete.yaml, category: provisioner, operation: delete, tags: [leaky]}
"""
LEAKY_CREATE = """
metadata: {name: leaky-create}
parameters:
  - {name: token, type: string, required: true}
steps:
  - name: careless
    type: script
    config:
      script: 'echo "the token is $PARAM_TOKEN"; echo "::set-output name=said::$PARAM_TOKEN"'
      params: {token: "{{ parameters.token }}"}
outputs:
  token: "{{ parameters.token }}"
  url: "https://leaky.example/{{ steps.careless.outputs.said | length }}"
"""
LEAKY_DELETE = """
metadata: {name: leaky-delete}
steps:
  - {name: noop, type: noop}
"""
SPEC = """
apiVersion: score.dev/v1b1
metadata: {name: careful}
containers:
  main:
    image: busybox
    variables:
      TOKEN: ${resources.api.token}
      DB: postgres://${resources.db.username}:${resources.db.password}@${resources.db.host}
resources:
  api: {type: leaky}
  db: {type: postgres}
"""


@pytest.fixture(autouse=True)
def plain_static_files(settings: Any) -> None:
    """Admin pages render without a collected static manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def leaky(tmp_path: Path, admin_config: Callable[[dict[str, Any]], Path]) -> None:
    directory = tmp_path / "leaky"
    directory.mkdir()
    (directory / "provider.yaml").write_text(LEAKY_PROVIDER)
    (directory / "create.yaml").write_text(LEAKY_CREATE)
    (directory / "delete.yaml").write_text(LEAKY_DELETE)
    admin_config({"providers": [str(directory)]})


@pytest.mark.usefixtures("leaky", "fake_kubeconfig")
def test_secrets_never_leave_the_database_in_clear(
    developer: Any, platform_admin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = submit(developer, SPEC)
    execution = last_execution("careful")
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    token = stored_secrets(ResourceInstance.objects.get(resource_name="api"))["token"]
    password = stored_secrets(ResourceInstance.objects.get(resource_name="db"))["password"]
    secrets = [token, password]
    assert len(token) == 32 and len(password) == 24

    # At rest: encrypted, never the clear value.
    for resource in ResourceInstance.objects.all():
        assert not any(s in resource.secret_outputs for s in secrets)
        assert not any(s in str(resource.outputs) for s in secrets)
    # The provider printed the token; the log line shows it redacted.
    lines = list(StepLog.objects.values_list("message", flat=True))
    assert any("the token is ***" in line for line in lines)
    assert not [line for line in lines if any(s in line for s in secrets)]
    for step in StepExecution.objects.all():
        assert not any(s in str(step.outputs) + str(step.config) for s in secrets)
    assert not [r for r in caplog.records if any(s in r.getMessage() for s in secrets)]

    api = APIClient()
    api.force_authenticate(developer)
    pages = [
        "/api/applications",
        "/api/applications/careful",
        "/api/applications/careful/manifests",
        "/api/applications/careful/revisions/1",
        "/api/resources",
        "/api/workflows",
        f"/api/workflows/{execution.pk}",
        f"/api/workflows/{execution.pk}/logs",
        "/api/providers/stats",
        *(f"/api/resources/{pk}" for pk in ResourceInstance.objects.values_list("pk", flat=True)),
    ]
    for page in pages:
        response = api.get(page)
        assert response.status_code == 200, (page, response.content[:300])
        assert not any(s.encode() in response.content for s in secrets), page
    resource = api.get(f"/api/resources/{ResourceInstance.objects.get(resource_name='db').pk}").json()
    assert resource["outputs"]["password"] == "********"
    assert any(h["type"] == "connection_string" and "********" in h["value"] for h in resource["hints"])
    dry = api.post(
        "/api/applications?dry_run=true",
        data=SPEC.replace("busybox", "busybox:2"),
        content_type="application/yaml",
    )
    assert dry.status_code == 200 and not any(s.encode() in dry.content for s in secrets)

    admin = Client()
    admin.force_login(platform_admin)
    urls = [
        reverse("admin:workflows_application_change", args=[result.application.pk]),
        reverse("admin:workflows_workflowexecution_change", args=[execution.pk]),
        reverse("admin:workflows_steplog_changelist"),
        reverse("admin:workflows_resourceinstance_changelist"),
        *(
            reverse("admin:workflows_resourceinstance_change", args=[pk])
            for pk in ResourceInstance.objects.values_list("pk", flat=True)
        ),
        *(
            reverse("admin:workflows_stepexecution_change", args=[pk])
            for pk in StepExecution.objects.values_list("pk", flat=True)
        ),
    ]
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        assert not any(s.encode() in response.content for s in secrets), url


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_rotating_a_password_keeps_it_secret_and_redeploys(developer: Any, fake_kube: Any) -> None:
    from tests.workflows.deploy.helpers import env_of, secret_value
    from workflows.services.goldenpaths import launch_golden_path

    app = submit(developer, sample("spec-readme-postgres-dns-route.yaml")).application.name
    db = ResourceInstance.objects.get(app_name=app, resource_name="db")
    old = stored_secrets(db)["password"]
    execution = launch_golden_path(
        name="db-lifecycle", parameters={"app_name": app, "operation": "rotate-password"}, user=developer
    )
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    new = stored_secrets(ResourceInstance.objects.get(pk=db.pk))["password"]
    assert new != old
    jobs = [job["metadata"]["name"] for job in fake_kube.objects("Job", ns(app))]
    assert jobs == [f"sample-db-pw-{execution.pk[-6:]}"]
    assert new in secret_value(fake_kube, ns(app), env_of(fake_kube, app)["PG_CONNECTION_STRING"])
    statuses = dict(execution.steps.values_list("name", "status"))
    assert statuses == {
        "check": "completed",
        "backup": "skipped",
        "migrate": "skipped",
        "rotate-password": "completed",
        "redeploy": "completed",
    }
    lines = WorkflowExecution.objects.get(pk=execution.pk).logs.values_list("message", flat=True)
    assert not [line for line in lines if old in line or new in line]
    assert Application.objects.get(name=app).deploy_state == "deployed"


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_backup_runs_a_pg_dump_job(developer: Any, fake_kube: Any) -> None:
    from workflows.services.goldenpaths import launch_golden_path

    app = submit(developer, sample("spec-readme-postgres-dns-route.yaml")).application.name
    execution = launch_golden_path(
        name="db-lifecycle", parameters={"app_name": app, "operation": "backup"}, user=developer
    )
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    job = fake_kube.get_object("Job", f"sample-db-backup-{execution.pk[-6:]}", ns(app))
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][-1].startswith("pg_dump -Fc")
    assert {e["name"]: e for e in container["env"]}["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "sample-db",
        "key": "password",
    }
    assert fake_kube.get_object("PersistentVolumeClaim", "sample-db-backups", ns(app)) is not None
    wrong = launch_golden_path(
        name="db-lifecycle",
        parameters={"app_name": app, "resource": "dns", "operation": "backup"},
        user=developer,
    )
    wrong.refresh_from_db()
    assert (
        wrong.status == ExecutionStatus.FAILED and "is a dns, not a postgres database" in wrong.error_message
    )
