"""Tiny factories for API and admin tests: one object each, through services where they exist."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from innominatus.accounts.access import team_for_write
from workflows.choices import ExecutionStatus, ResourceState, StepStatus
from workflows.models import (
    Application,
    DeploymentRevision,
    ResourceInstance,
    StepExecution,
    StepLog,
    WorkflowExecution,
)
from workflows.score import ingest

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "score"

HELLO = """\
apiVersion: score.dev/v1b1
metadata:
  name: hello
containers:
  main:
    image: nginx:1.27
    variables:
      DB_HOST: ${resources.db.host}
resources:
  db:
    type: postgres
"""


def score(name: str, image: str = "nginx:1.27") -> str:
    """A small valid Score document."""
    return HELLO.replace("name: hello", f"name: {name}").replace("nginx:1.27", image)


def post_spec(
    client: APIClient,
    text: str | bytes,
    *,
    content_type: str = "application/yaml",
    path: str = "/api/applications",
    **query: str,
) -> Any:
    """POST a document with a raw body, the way a CLI does."""
    if query:
        path += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return client.post(path, data=text, content_type=content_type)


def make_application(user: Any, name: str = "hello", *, image: str = "nginx:1.27") -> Application:
    """An application of `user`'s team with a new revision per new content, stored without a deploy.

    Submitting through the API also starts a deploy (and records its resources); tests that count
    executions or resources create exactly the rows they assert on.
    """
    result = ingest(score(name, image))
    application, _ = Application.objects.get_or_create(
        name=name, defaults={"team": team_for_write(user), "created_by": user}
    )
    last = application.revisions.order_by("-number").first()
    if last is not None and last.content_hash == result.sha256:
        return application
    revision = DeploymentRevision.objects.create(
        application=application,
        number=(last.number if last else 0) + 1,
        spec=result.spec,
        extensions=result.extensions,
        source=score(name, image),
        content_hash=result.sha256,
        created_by=user,
    )
    application.current_revision = revision
    application.save(update_fields=["current_revision"])
    return application


def make_execution(
    application: Application | None,
    *,
    status: str = ExecutionStatus.COMPLETED,
    workflow_name: str = "deploy",
    started_ago: timedelta | None = None,
    **fields: Any,
) -> WorkflowExecution:
    """An execution of `application` in `status` (rows written directly: the engine owns launching)."""
    started = (
        None if status == ExecutionStatus.PENDING else timezone.now() - (started_ago or timedelta(minutes=1))
    )
    finished = timezone.now() if status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED) else None
    return WorkflowExecution.objects.create(
        application=application,
        app_name=application.name if application else fields.pop("app_name", "orphan"),
        team=application.team if application else None,
        workflow_name=workflow_name,
        status=status,
        definition={},
        started_at=started,
        completed_at=finished,
        revision=application.current_revision if application else None,
        **fields,
    )


def make_step(
    execution: WorkflowExecution,
    name: str = "apply",
    *,
    position: int = 0,
    status: str = StepStatus.COMPLETED,
) -> StepExecution:
    """One step of `execution`."""
    now = timezone.now()
    return StepExecution.objects.create(
        execution=execution,
        name=name,
        step_type="noop",
        position=position,
        status=status,
        started_at=now - timedelta(seconds=3) if status != StepStatus.PENDING else None,
        completed_at=now if status == StepStatus.COMPLETED else None,
        attempt=1,
        outputs={"ok": True},
    )


def make_log(step: StepExecution, seq: int, message: str, *, stream: str = "stdout") -> StepLog:
    """One log line of `step`."""
    return StepLog.objects.create(
        execution=step.execution, step=step, seq=seq, message=message, stream=stream
    )


def make_resource(
    application: Application,
    name: str = "db",
    *,
    resource_type: str = "postgres",
    state: str = ResourceState.ACTIVE,
) -> ResourceInstance:
    """A resource of `application` holding a secret output that must never be shown."""
    return ResourceInstance.objects.create(
        application=application,
        app_name=application.name,
        resource_name=name,
        resource_type=resource_type,
        state=state,
        outputs={"host": "db.internal", "port": 5432},
        secret_outputs="ENCRYPTED-SECRET-BLOB",
    )


# Tables of the domain under test; cache, throttle, audit and lock queries are other layers' business.
DOMAIN_TABLES = (
    '"applications"',
    '"deployment_revisions"',
    '"workflow_executions"',
    '"workflow_step_executions"',
    '"workflow_step_logs"',
    '"resource_instances"',
    '"resource_state_transitions"',
)


def count_queries(client: Any, url: str) -> tuple[Any, int, int]:
    """GET `url` after one warm-up request: (response, all queries, queries on domain tables)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    queries = [query["sql"] for query in captured.captured_queries]
    domain = [sql for sql in queries if any(table in sql for table in DOMAIN_TABLES)]
    return response, len(queries), len(domain)
