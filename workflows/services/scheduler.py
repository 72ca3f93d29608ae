"""Advancing an execution: decide which steps run, wait, or are skipped, and finish it when done."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from innominatus.logcontext import bind
from workflows import signals
from workflows.choices import EXECUTION_ACTIVE_STATUSES, ExecutionStatus, StepStatus
from workflows.engine.model import WorkflowDefinition
from workflows.engine.outputs import render_workflow_outputs, render_workflow_variables
from workflows.engine.planning import StepState, decide
from workflows.models import StepExecution, WorkflowExecution
from workflows.queue import enqueue
from workflows.redaction import redact_for_app
from workflows.services.context import context_steps, execution_context, resources_view
from workflows.steps.registry import step_classes

logger = logging.getLogger(__name__)

RUN_STEP_TASK = "workflows.tasks.run_step"
ADVANCE_TASK = "workflows.tasks.run_advance"


def _needs_approval(step: StepExecution, definition: WorkflowDefinition) -> bool:
    """A step waits for a person when written `when: manual` or when its type is an approval gate."""
    if step.decided_at is not None:
        return False
    step_class = step_classes().get(step.step_type)
    return definition.step(step.name).when == "manual" or bool(step_class and step_class.requires_approval)


def _states(steps: list[StepExecution], definition: WorkflowDefinition) -> dict[str, StepState]:
    states: dict[str, StepState] = {}
    for step in steps:
        status = step.status
        tolerated = status == StepStatus.FAILED and definition.step(step.name).continue_on_error
        # An approved gate counts as ready to run, not as waiting.
        if status == StepStatus.WAITING and step.decided_at is not None:
            status = StepStatus.PENDING
        states[step.name] = StepState(status=status, continue_on_error_failed=tolerated)
    return states


def _is_due(step: StepExecution, now: Any) -> bool:
    lease = timedelta(seconds=settings.STEP_LEASE_SECONDS)
    if step.next_attempt_at is not None and step.next_attempt_at > now:
        return False
    return step.dispatched_at is None or step.dispatched_at < now - lease


def _apply_decisions(
    execution: WorkflowExecution, steps: list[StepExecution], definition: WorkflowDefinition
) -> tuple[list[StepExecution], Any]:
    """Apply skip and wait decisions until nothing changes; return the steps to run and the last decision."""
    by_name = {step.name: step for step in steps}
    # Only conditions read the context here; most workflows have none, so skip reading resources.
    conditional = any(step.if_expr or step.unless_expr for step in definition.steps)
    resources = resources_view(execution) if conditional else {}
    for _ in range(len(steps) + 1):
        context = execution_context(execution, steps, resources=resources) if conditional else None
        decisions = decide(definition, _states(steps, definition), context)
        changed = False
        for name, reason in decisions.to_skip.items():
            step = by_name[name]
            if step.status in (StepStatus.PENDING, StepStatus.WAITING):
                changed |= step.transition(StepStatus.SKIPPED, skip_reason=reason[:500])
        for name, reason in decisions.to_fail.items():
            step = by_name[name]
            if step.status == StepStatus.PENDING:
                changed |= step.transition(StepStatus.FAILED, error_message=reason[:10000])
        runnable: list[StepExecution] = []
        for name in [*decisions.to_wait, *decisions.to_run]:
            step = by_name[name]
            if step.status == StepStatus.PENDING and _needs_approval(step, definition):
                changed |= step.transition(StepStatus.WAITING)
            elif step.status == StepStatus.PENDING:
                runnable.append(step)
        if not changed:
            return runnable, decisions
    return runnable, decisions


@dataclass
class Ready:
    """Steps an advance found ready: one already claimed for the calling worker, the rest to queue."""

    claimed: StepExecution | None = None
    queued: list[int] = field(default_factory=list)


def advance(
    execution_id: str,
    *,
    locked: WorkflowExecution | None = None,
    steps: list[StepExecution] | None = None,
    definition: WorkflowDefinition | None = None,
    claim: Callable[[StepExecution, datetime], bool] | None = None,
) -> Ready:
    """Re-evaluate one execution under its row lock; return the steps to run now.

    `locked` is the execution when the caller already holds its row lock in the current transaction,
    `steps` and `definition` what that caller already read under it. With `claim`, the first ready step
    is offered to it (a worker taking it in this transaction) instead of being queued.
    """
    now = timezone.now()
    # No savepoint: a failure inside fails the caller's transaction as a whole anyway.
    with transaction.atomic(savepoint=False):
        execution = locked or (
            WorkflowExecution.objects.select_for_update(of=("self",))
            .select_related("revision", "application", "team")
            .get(pk=execution_id)
        )
        if execution.is_terminal:
            return Ready()
        with bind(workflow_id=execution.id, app_name=execution.app_name):
            definition = definition or WorkflowDefinition.from_dict(execution.definition)
            steps = context_steps(execution) if steps is None else steps
            if execution.status == ExecutionStatus.PENDING and _waits_for_its_turn(execution):
                return Ready()
            if execution.status == ExecutionStatus.PENDING:
                try:
                    variables = render_workflow_variables(definition, execution_context(execution, steps))
                except Exception as exc:
                    execution.start()
                    _finish(execution, steps, definition, ExecutionStatus.FAILED, f"variables: {exc}")
                    return Ready()
                merged = {**variables, **(execution.variables or {})}
                if merged != (execution.variables or {}):
                    execution.variables = merged
                    WorkflowExecution.objects.filter(pk=execution.pk).update(variables=merged)
                execution.start()
                transaction.on_commit(
                    lambda: signals.execution_started.send(
                        sender=WorkflowExecution,
                        execution_id=execution.id,
                        app_name=execution.app_name,
                        workflow_name=execution.workflow_name,
                    )
                )
            try:
                runnable, decisions = _apply_decisions(execution, steps, definition)
            except Exception as exc:  # a condition that cannot be evaluated is the workflow's error
                error = redact_for_app(f"cannot schedule steps: {exc}", app_name=execution.app_name)
                logger.warning("workflow cannot advance", extra={"error": error})
                _finish(execution, steps, definition, ExecutionStatus.FAILED, error)
                return Ready()
            if decisions.finished:
                outcome = decisions.outcome or ExecutionStatus.COMPLETED
                _finish(execution, steps, definition, outcome, "")
                return Ready()
            due = [step for step in runnable if _is_due(step, now)]
            ready = Ready()
            if due and claim is not None and claim(due[0], now):
                ready.claimed, due = due[0], due[1:]
            if due:
                StepExecution.objects.filter(pk__in=[step.pk for step in due]).update(dispatched_at=now)
                ready.queued = [step.pk for step in due]
            _update_activity(execution, steps, runnable)
            return ready


def _concurrency_group(execution: WorkflowExecution) -> str:
    """The `metadata.concurrency` of the snapshot an execution runs ("" when it has none)."""
    metadata = (execution.definition or {}).get("metadata") or {}
    return str(metadata.get("concurrency") or "") if isinstance(metadata, dict) else ""


def _same_group(execution: WorkflowExecution, group: str) -> QuerySet[WorkflowExecution]:
    """Executions of the same application in the same concurrency group (`metadata.concurrency`)."""
    return WorkflowExecution.objects.filter(
        app_name=execution.app_name, definition__metadata__concurrency=group
    ).exclude(pk=execution.pk)


def _waits_for_its_turn(execution: WorkflowExecution) -> bool:
    """`concurrency: application` lets one run of the group per application start; the rest queue in order."""
    group = _concurrency_group(execution)
    if not group:
        return False
    earlier = Q(created_at__lt=execution.created_at) | Q(created_at=execution.created_at, pk__lt=execution.pk)
    ahead = _same_group(execution, group).filter(earlier, status__in=EXECUTION_ACTIVE_STATUSES)
    # Anything already started goes first, whenever it was created.
    started = _same_group(execution, group).filter(
        status__in=[ExecutionStatus.RUNNING, ExecutionStatus.WAITING]
    )
    return ahead.exists() or started.exists()


def start_next_in_group(execution: WorkflowExecution) -> None:
    """When a run of a concurrency group ends, the oldest queued one of its application may start."""
    group = _concurrency_group(execution)
    if not group:
        return
    queued = (
        _same_group(execution, group)
        .filter(status=ExecutionStatus.PENDING)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if queued:
        enqueue(ADVANCE_TASK, queued)


def _update_activity(
    execution: WorkflowExecution, steps: list[StepExecution], runnable: list[StepExecution]
) -> None:
    """An execution shows `waiting` while a person must act and nothing else can move."""
    busy = bool(runnable) or any(step.status == StepStatus.RUNNING for step in steps)
    waiting = any(step.status == StepStatus.WAITING for step in steps)
    if execution.status == ExecutionStatus.RUNNING and waiting and not busy:
        execution.transition(ExecutionStatus.WAITING)
    elif execution.status == ExecutionStatus.WAITING and (busy or not waiting):
        execution.transition(ExecutionStatus.RUNNING)


def _failure_message(steps: list[StepExecution], definition: WorkflowDefinition) -> str:
    for step in steps:
        if step.status == StepStatus.FAILED and not definition.step(step.name).continue_on_error:
            return f"step '{step.name}' failed: {step.error_message}".strip()
    return "workflow failed"


def _finish(
    execution: WorkflowExecution,
    steps: list[StepExecution],
    definition: WorkflowDefinition,
    outcome: str,
    error: str,
) -> None:
    """Render the workflow's outputs and move it to its terminal status."""
    if outcome == ExecutionStatus.COMPLETED:
        try:
            outputs = render_workflow_outputs(definition, execution_context(execution, steps))
            if outputs != (execution.outputs or {}):
                execution.outputs = outputs
                WorkflowExecution.objects.filter(pk=execution.pk).update(outputs=outputs)
        except Exception as exc:
            outcome, error = ExecutionStatus.FAILED, f"workflow outputs could not be rendered: {exc}"
    elif outcome == ExecutionStatus.FAILED and not error:
        error = _failure_message(steps, definition)
    if execution.status == ExecutionStatus.WAITING:
        execution.transition(ExecutionStatus.RUNNING)
    # The steps as decided on: the last one's result is stored after this (runner.record_result).
    if not execution.finish(outcome, error, steps=steps):
        return
    start_next_in_group(execution)
    logger.info("workflow finished", extra={"status": outcome})
    transaction.on_commit(
        lambda: signals.execution_finished.send(
            sender=WorkflowExecution,
            execution=execution,
            status=outcome,
            duration=execution.duration_seconds,
        )
    )


def dispatch(step_ids: list[int]) -> None:
    """Send one run message per step (after commit)."""
    for step_id in step_ids:
        enqueue(RUN_STEP_TASK, step_id)


def advance_and_dispatch(execution_id: str) -> None:
    """Advance an execution and queue every step that became ready."""
    dispatch(advance(execution_id).queued)
