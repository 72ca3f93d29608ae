"""Tiny factories for portal tests: one object each, through services where they exist."""

from datetime import timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from innominatus.accounts.models import Team
from workflows.choices import ExecutionStatus, ResourceState, StepStatus
from workflows.engine.loader import load_workflow
from workflows.models import (
    Application,
    DeploymentRevision,
    ResourceInstance,
    StepExecution,
    StepLog,
    WorkflowExecution,
)
from workflows.score import ingest
from workflows.services.executions import launch_execution
from workflows.steps.registry import known_step_types

SPEC = """\
apiVersion: score.dev/v1b1
metadata:
  name: {name}
containers:
  main:
    image: {image}
    variables:
      DB_HOST: ${{resources.db.host}}
resources:
  db:
    type: postgres
"""

GATED_WORKFLOW = """\
apiVersion: orchestrator.innominatus.dev/v1
kind: Workflow
metadata:
  name: gated
spec:
  steps:
    - name: prepare
      type: noop
    - name: gate
      type: noop
      when: manual
      dependsOn: [prepare]
    - name: finish
      type: noop
      dependsOn: [gate]
"""


def score(name: str, image: str = "nginx:1.27") -> str:
    """A small valid Score document with one postgres resource."""
    return SPEC.format(name=name, image=image)


def add_revision(application: Application, user: Any, *, image: str = "nginx:1.27", comment: str = "") -> Any:
    """The application's next revision (rows only: submitting through the service would also deploy it)."""
    text = score(application.name, image)
    result = ingest(text, content_type="application/yaml")
    number = (application.revisions.aggregate(highest=Max("number"))["highest"] or 0) + 1
    revision = DeploymentRevision.objects.create(
        application=application,
        number=number,
        spec=result.spec,
        extensions=result.extensions,
        source=text,
        content_hash=result.sha256,
        comment=comment,
        created_by=user,
    )
    application.current_revision = revision
    application.save(update_fields=["current_revision", "updated_at"])
    return revision


def make_application(user: Any, name: str = "hello", *, image: str = "nginx:1.27") -> Application:
    """An application of the user's first team with one revision and nothing deployed."""
    team = Team.objects.filter(members=user).order_by("name").first()
    assert team is not None, "the user needs a team"
    application = Application.objects.create(name=name, team=team, created_by=user)
    add_revision(application, user, image=image)
    return application


def make_execution(
    application: Application,
    *,
    status: str = ExecutionStatus.COMPLETED,
    workflow_name: str = "deploy",
    created_ago: timedelta = timedelta(minutes=1),
    **fields: Any,
) -> WorkflowExecution:
    """An execution row in `status` (written directly: the rows a finished run leaves behind)."""
    created = timezone.now() - created_ago
    terminal = status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED)
    return WorkflowExecution.objects.create(
        application=application,
        app_name=application.name,
        team=application.team,
        workflow_name=workflow_name,
        status=status,
        definition={},
        created_at=created,
        started_at=None if status == ExecutionStatus.PENDING else created,
        completed_at=created + timedelta(seconds=30) if terminal else None,
        revision=application.current_revision,
        **fields,
    )


def make_step(
    execution: WorkflowExecution,
    name: str,
    *,
    position: int = 0,
    status: str = StepStatus.COMPLETED,
    depends_on: list[str] | None = None,
    step_type: str = "noop",
) -> StepExecution:
    """One step of `execution`; started and finished according to its status."""
    started = timezone.now() - timedelta(seconds=10 - position) if status != StepStatus.PENDING else None
    done = status in (StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.CANCELLED)
    return StepExecution.objects.create(
        execution=execution,
        name=name,
        step_type=step_type,
        position=position,
        status=status,
        depends_on=depends_on or [],
        started_at=started,
        completed_at=timezone.now() if done else None,
        attempt=1 if started else 0,
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
    **fields: Any,
) -> ResourceInstance:
    """A resource of `application`."""
    return ResourceInstance.objects.create(
        application=application,
        app_name=application.name,
        resource_name=name,
        resource_type=resource_type,
        state=state,
        outputs={"host": "db.internal"},
        **fields,
    )


def launch_gated(application: Application, user: Any) -> WorkflowExecution:
    """A real launch of a three-step workflow whose middle step waits for approval."""
    definition = load_workflow(GATED_WORKFLOW, known_step_types=known_step_types())
    return launch_execution(
        definition=definition, app_name=application.name, application=application, user=user, trigger="test"
    )
