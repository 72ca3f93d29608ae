"""A secret placed into another resource's params never shows in clear: not in the error of the step,
the execution, the resource, its transitions or the application, not in any API response, and not in
any text column of the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.workflows.deploy.helpers import failure_report, last_execution, submit
from workflows.choices import ExecutionStatus, ResourceState
from workflows.models import Application, ResourceInstance, StepExecution
from workflows.redaction import REDACTED, redact
from workflows.services.resource_values import stored_secrets

pytestmark = pytest.mark.django_db(transaction=True)

SPEC = """
apiVersion: score.dev/v1b1
metadata: {name: leak}
containers:
  main: {image: busybox}
resources:
  db: {type: postgres}
  web:
    type: route
    params: {host: "${resources.db.password}", path: /, port: 80}
"""
TEXT_TYPES = ("text", "character varying", "jsonb", "json")


def tables_holding(value: str) -> list[str]:
    """Every public table.column whose text contains `value`."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = ANY(%s)",
            [list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE strpos("{column}"::text, %s) > 0',
                [value],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def test_redact_replaces_longest_values_first_and_ignores_short_ones() -> None:
    assert (
        redact("pw=abcdef, prefix abcd", ["abcd", "abcdef", "", "ab"]) == f"pw={REDACTED}, prefix {REDACTED}"
    )
    assert redact("port 80 ok", ["80"]) == "port 80 ok"


@pytest.mark.usefixtures("platform", "fake_kubeconfig")
def test_a_password_in_another_resources_params_is_redacted_everywhere(
    developer: Any, make_user: Any
) -> None:
    submit(developer, SPEC)
    execution = last_execution("leak")
    assert execution.status == ExecutionStatus.FAILED, failure_report(execution)
    password = stored_secrets(ResourceInstance.objects.get(resource_name="db"))["password"]
    assert len(password) >= 16
    web = ResourceInstance.objects.get(resource_name="web")
    step = StepExecution.objects.get(execution=execution, name="provision-web")
    application = Application.objects.get(name="leak")
    # The failure is reported, with the secret replaced.
    assert web.state == ResourceState.FAILED
    for text in (
        execution.error_message,
        step.error_message,
        web.error_message,
        web.transitions.order_by("-id")[0].reason,
        application.deploy_message,
    ):
        assert f"'{REDACTED}' does not match the pattern" in text, text
    assert tables_holding(password) == []

    viewer = make_user("viewer-1", role="viewer")
    for user in (developer, viewer):
        api = APIClient()
        api.force_authenticate(user)
        pages = [
            "/api/applications",
            "/api/applications/leak",
            "/api/resources",
            f"/api/resources/{web.pk}",
            "/api/workflows",
            f"/api/workflows/{execution.pk}",
            f"/api/workflows/{execution.pk}/logs",
        ]
        for page in pages:
            response = api.get(page)
            assert response.status_code == 200, (page, response.content[:300])
            assert password.encode() not in response.content, page
        assert "does not match" in api.get(f"/api/workflows/{execution.pk}").json()["error_message"]


QUOTING = """
metadata: {name: quoting}
steps:
  - name: careless
    type: noop
    config: {x: "{{ {}['Sup3rSecretValue-quoted'] }}"}
"""


def test_a_step_error_quoting_a_secret_of_the_application_is_stored_redacted(developer: Any) -> None:
    from innominatus.accounts.models import Team
    from workflows.engine.loader import load_workflow
    from workflows.services.executions import launch_execution
    from workflows.services.secrets import encrypt_mapping
    from workflows.steps.registry import known_step_types

    password = "Sup3rSecretValue-quoted"
    team = Team.objects.get(name="team-a")
    application = Application.objects.create(name="hush", team=team)
    ResourceInstance.objects.create(
        application=application,
        app_name="hush",
        resource_name="db",
        resource_type="postgres",
        state=ResourceState.ACTIVE,
        outputs={"host": "db.hush", "password": "********"},
        secret_outputs=encrypt_mapping({"password": password}),
    )
    definition = load_workflow(QUOTING, known_step_types=known_step_types())
    execution = launch_execution(
        definition=definition, app_name="hush", team=team, user=developer, application=application
    )
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED, failure_report(execution)
    step = execution.steps.get()
    assert f"has no attribute '{REDACTED}'" in step.error_message, step.error_message
    assert f"has no attribute '{REDACTED}'" in execution.error_message
    # Only the workflow definition, which holds the value verbatim, may show it.
    assert tables_holding(password) == ["workflow_executions.definition"]
