"""Use cases on executions: launch, cancel, retry, approve and reject."""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from innominatus.accounts import rbac
from innominatus.accounts.models import Team
from innominatus.problems import ProblemError
from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.approvals import Approver, approval_policy
from workflows.engine.model import WorkflowDefinition
from workflows.engine.parameters import validate_parameters
from workflows.engine.planning import effective_dependencies
from workflows.models import Application, DeploymentRevision, StepExecution, WorkflowExecution
from workflows.queue import enqueue
from workflows.redaction import redact_for_app
from workflows.services import scheduler
from workflows.services.steplog import StepLogWriter

logger = logging.getLogger(__name__)

ADVANCE_TASK = "workflows.tasks.run_advance"


class ActionNotAllowed(Exception):
    """The execution is not in a state where this action makes sense."""


class DecisionRefused(ProblemError):
    """The user may not decide on this gate: it needs four eyes or names other approvers."""

    status_code = 403
    default_code = "decision_not_allowed"


def _username(user: Any) -> str:
    return str(getattr(user, "username", "") or "system")


def launch_execution(
    *,
    definition: WorkflowDefinition,
    app_name: str,
    parameters: dict[str, Any] | None = None,
    user: Any = None,
    application: Application | None = None,
    team: Team | None = None,
    revision: DeploymentRevision | None = None,
    trigger: str = "api",
    parent: WorkflowExecution | None = None,
) -> WorkflowExecution:
    """Validate parameters, snapshot the definition, create the run and its steps, and queue it."""
    values = validate_parameters(definition.parameters, parameters or {})
    dependencies = effective_dependencies(definition)
    now = timezone.now()
    with transaction.atomic():
        execution = WorkflowExecution.objects.create(
            application=application,
            app_name=app_name,
            team=team or (application.team if application else None),
            workflow_name=definition.name,
            definition=definition.to_dict(),
            parameters=values,
            revision=revision,
            parent=parent,
            trigger=trigger,
            triggered_by=user if getattr(user, "is_authenticated", False) else None,
            created_at=now,
            deadline=now + timedelta(seconds=definition.timeout) if definition.timeout else None,
        )
        steps = StepExecution.objects.bulk_create(
            StepExecution(
                execution=execution,
                name=step.name,
                step_type=step.type,
                position=position,
                depends_on=list(dependencies.get(step.name, ())),
                max_attempts=step.retries.limit + 1,
                created_at=now,
            )
            for position, step in enumerate(definition.steps)
        )
        # Deciding the first steps is quick: do it here and queue them, not a message to decide them.
        created = steps if all(step.pk is not None for step in steps) else None
        ready = scheduler.advance(execution.pk, locked=execution, steps=created, definition=definition)
        scheduler.dispatch(ready.queued)
    logger.info("workflow launched", extra={"workflow_id": execution.pk, "app_name": app_name})
    return execution


def cancel_execution(*, execution: WorkflowExecution, user: Any, reason: str = "") -> WorkflowExecution:
    """Cancel a run: pending and waiting steps are cancelled now, running ones stop within a second."""
    message = f"cancelled by {_username(user)}" + (f": {reason}" if reason else "")
    message = redact_for_app(message, app_name=execution.app_name)
    with transaction.atomic():
        locked = WorkflowExecution.objects.select_for_update().get(pk=execution.pk)
        if locked.is_terminal:
            raise ActionNotAllowed(f"execution {locked.pk} is already {locked.status}")
        locked.cancel(message)
        now = timezone.now()
        locked.steps.filter(status__in=[StepStatus.PENDING, StepStatus.WAITING]).update(
            status=StepStatus.CANCELLED, completed_at=now, error_message=message
        )
    _log_engine_line(locked, message)
    scheduler.start_next_in_group(locked)
    return locked


def _log_engine_line(execution: WorkflowExecution, message: str) -> None:
    writer = StepLogWriter(execution_id=execution.pk, step_id=None)
    writer.system(redact_for_app(message, app_name=execution.app_name))
    writer.flush()


def retry_execution(*, execution: WorkflowExecution, user: Any) -> WorkflowExecution:
    """Start a new run linked to this one that reuses completed steps' outputs and resumes after them."""
    if execution.status not in (ExecutionStatus.FAILED, ExecutionStatus.CANCELLED):
        raise ActionNotAllowed(
            f"only failed or cancelled executions can be retried (this one is {execution.status})"
        )
    definition = WorkflowDefinition.from_dict(execution.definition)
    previous = {step.name: step for step in execution.steps.all()}
    now = timezone.now()
    with transaction.atomic():
        retry = WorkflowExecution.objects.create(
            application=execution.application,
            app_name=execution.app_name,
            team=execution.team,
            workflow_name=execution.workflow_name,
            definition=execution.definition,
            parameters=execution.parameters,
            variables=execution.variables,
            revision=execution.revision,
            parent=execution,
            trigger="retry",
            triggered_by=user if getattr(user, "is_authenticated", False) else None,
            created_at=now,
            deadline=now + timedelta(seconds=definition.timeout) if definition.timeout else None,
        )
        steps = []
        for position, step_def in enumerate(definition.steps):
            old = previous.get(step_def.name)
            reused = old is not None and old.status == StepStatus.COMPLETED
            steps.append(
                StepExecution(
                    execution=retry,
                    name=step_def.name,
                    step_type=step_def.type,
                    position=position,
                    depends_on=old.depends_on if old else [],
                    max_attempts=step_def.retries.limit + 1,
                    status=StepStatus.COMPLETED if reused else StepStatus.PENDING,
                    outputs=old.outputs if reused and old else {},
                    skip_reason=f"reused from {execution.pk}" if reused else "",
                    started_at=old.started_at if reused and old else None,
                    completed_at=old.completed_at if reused and old else None,
                    decided_by=old.decided_by if reused and old else None,
                    decided_at=old.decided_at if reused and old else None,
                    created_at=now,
                )
            )
        StepExecution.objects.bulk_create(steps)
        enqueue(ADVANCE_TASK, retry.pk)
    return retry


def _waiting_step(execution: WorkflowExecution, step_name: str | None) -> StepExecution:
    waiting = execution.steps.filter(status=StepStatus.WAITING)
    if step_name:
        waiting = waiting.filter(name=step_name)
    step = waiting.order_by("position").first()
    if step is None:
        target = f"step '{step_name}'" if step_name else "any step"
        raise ActionNotAllowed(f"{target} of {execution.pk} is not waiting for approval")
    return step


def _check_decider(execution: WorkflowExecution, step: StepExecution, user: Any, *, approving: bool) -> None:
    """Refuse a decision the gate's `four_eyes` / `approvers` policy does not allow."""
    try:
        config = WorkflowDefinition.from_dict(execution.definition).step(step.name).config
    except KeyError:
        config = {}
    policy = approval_policy(config)
    if not (policy.four_eyes or policy.restricted):
        return
    signed_in = bool(getattr(user, "is_authenticated", False))
    approver = Approver(
        username=_username(user),
        roles=frozenset(rbac.role_names(user)),
        teams=frozenset(user.teams.values_list("name", flat=True)) if signed_in else frozenset(),
        launched_the_run=signed_in and execution.triggered_by_id == user.pk,
    )
    reason = policy.refusal(approver, approving=approving)
    if reason is not None:
        raise DecisionRefused(
            f"{approver.username} may not {'approve' if approving else 'reject'} step '{step.name}': {reason}"
        )


def approve_step(
    *, execution: WorkflowExecution, user: Any, step_name: str | None = None, comment: str = ""
) -> StepExecution:
    """Record who approved a waiting gate and let the step run."""
    with transaction.atomic():
        WorkflowExecution.objects.select_for_update().get(pk=execution.pk)
        step = _waiting_step(execution, step_name)
        _check_decider(execution, step, user, approving=True)
        step.transition(
            StepStatus.PENDING,
            decided_by=user if getattr(user, "is_authenticated", False) else None,
            decided_at=timezone.now(),
            decision_comment=comment[:2000],
        )
        enqueue(ADVANCE_TASK, execution.pk)
    _log_engine_line(execution, f"step '{step.name}' approved by {_username(user)}: {comment}".rstrip(": "))
    return step


def reject_step(
    *, execution: WorkflowExecution, user: Any, step_name: str | None = None, comment: str = ""
) -> StepExecution:
    """Record who rejected a waiting gate; the step fails, and the workflow with it."""
    message = f"rejected by {_username(user)}" + (f": {comment}" if comment else "")
    with transaction.atomic():
        WorkflowExecution.objects.select_for_update().get(pk=execution.pk)
        step = _waiting_step(execution, step_name)
        _check_decider(execution, step, user, approving=False)
        step.transition(
            StepStatus.FAILED,
            decided_by=user if getattr(user, "is_authenticated", False) else None,
            decided_at=timezone.now(),
            decision_comment=comment[:2000],
            error_message=message,
        )
        enqueue(ADVANCE_TASK, execution.pk)
    _log_engine_line(execution, f"step '{step.name}' {message}")
    return step
