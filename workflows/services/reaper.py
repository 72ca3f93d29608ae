"""Recovery: steps whose worker vanished, executions that stalled, and workflows past their deadline."""

import logging
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from innominatus.logcontext import bind
from innominatus.processes import process_alive
from workflows.choices import EXECUTION_ACTIVE_STATUSES, ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution
from workflows.services import leases, runner, scheduler
from workflows.services.steplog import StepLogWriter
from workflows.steps.registry import get_step

logger = logging.getLogger(__name__)


@dataclass
class ReapReport:
    """What one reaper pass did."""

    retried: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    advanced: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    # Recorded from the result their attempt left (its worker died before recording it).
    recorded: list[str] = field(default_factory=list)
    # Not recovered yet: their earlier attempt may still be running.
    waiting: list[str] = field(default_factory=list)


def expired_steps(now: datetime | None = None) -> list[StepExecution]:
    """Running steps whose lease ran out, or whose worker on this host is gone: their worker is gone or
    hung. Whether they may be recovered yet is for attempt_is_over to say."""
    now = now or timezone.now()
    local = Q(lease_owner__startswith=f"{socket.gethostname()}:")
    return [
        step
        for step in StepExecution.objects.filter(status=StepStatus.RUNNING)
        .filter(Q(lease_expires_at__lt=now) | local)
        .select_related("execution")
        .order_by("lease_expires_at")
        if (step.lease_expires_at is not None and step.lease_expires_at < now)
        or not process_alive((leases.owner_process(step.lease_owner) or ("", 0))[1])
    ]


def recover_step(step: StepExecution, report: ReapReport) -> None:
    """Once its earlier attempt is surely over: record the result that attempt left, if any; otherwise
    retry the step when attempts remain, or fail it with the reason."""
    over, why = leases.attempt_is_over(step, timezone.now())
    if not over:
        report.waiting.append(f"{step.execution_id}/{step.name}")
        return
    expired_at = step.lease_expires_at.isoformat() if step.lease_expires_at else "unknown"
    explanation = (
        f"worker {step.lease_owner or '?'} stopped heartbeating (lease expired at {expired_at}; {why})"
    )
    if step.execution.status != ExecutionStatus.CANCELLED and _record_evidence(step, explanation):
        report.recorded.append(f"{step.execution_id}/{step.name}")
        return
    writer = StepLogWriter(execution_id=step.execution_id, step_id=step.pk)
    with transaction.atomic():
        execution = WorkflowExecution.objects.select_for_update().get(pk=step.execution_id)
        stale = StepExecution.objects.filter(
            pk=step.pk, status=StepStatus.RUNNING, lease_owner=step.lease_owner
        )
        now = timezone.now()
        if execution.status == ExecutionStatus.CANCELLED:
            moved = stale.update(
                status=StepStatus.CANCELLED, completed_at=now, lease_owner="", lease_expires_at=None
            )
            bucket, line = report.cancelled, f"{explanation}; the workflow was cancelled"
        elif step.attempt < step.max_attempts:
            moved = stale.update(
                status=StepStatus.PENDING,
                error_message=explanation,
                lease_owner="",
                lease_expires_at=None,
                next_attempt_at=now,
                dispatched_at=None,
            )
            bucket, line = (
                report.retried,
                f"{explanation}; retrying (attempt {step.attempt + 1} of {step.max_attempts})",
            )
        else:
            moved = stale.update(
                status=StepStatus.FAILED,
                error_message=f"{explanation}; no retries left",
                completed_at=now,
                lease_owner="",
                lease_expires_at=None,
            )
            bucket, line = report.failed, f"{explanation}; no retries left, step failed"
        if moved:
            writer.system(line, level="warning")
            writer.flush()
            bucket.append(f"{step.execution_id}/{step.name}")
    if moved:
        with bind(workflow_id=step.execution_id, step=step.name):
            logger.warning("recovered step with expired lease", extra={"action": line})
        scheduler.advance_and_dispatch(step.execution_id)


def _record_evidence(step: StepExecution, explanation: str) -> bool:
    """Record the step from the result file its attempt left in the work directory, when there is one."""
    result = get_step(step.step_type).evidence(
        settings.STEP_WORK_ROOT / step.execution_id, step.name, step.attempt
    )
    if result is None:
        return False
    note = f"{explanation}; the step's process had finished: recorded from its result file"
    if not runner.record_evidence(step, result, note):
        return False
    with bind(workflow_id=step.execution_id, step=step.name):
        logger.warning(
            "recorded a step from the result its dead worker's attempt left", extra={"status": result.status}
        )
    return True


def stalled_executions(now: datetime | None = None) -> list[str]:
    """Active executions with a due pending step that no worker has picked up."""
    now = now or timezone.now()
    lease_ago = now - timedelta(seconds=settings.STEP_LEASE_SECONDS)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    undispatched = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=lease_ago)
    step_ids = (
        StepExecution.objects.filter(
            status=StepStatus.PENDING, execution__status__in=EXECUTION_ACTIVE_STATUSES
        )
        .filter(due & undispatched)
        .values_list("execution_id", flat=True)
        .distinct()
    )
    pending_runs = WorkflowExecution.objects.filter(
        status=ExecutionStatus.PENDING, created_at__lt=now - timedelta(seconds=5)
    ).values_list("pk", flat=True)
    return sorted(set(step_ids) | set(pending_runs))


def time_out_executions(report: ReapReport, now: datetime | None = None) -> None:
    """Fail executions whose workflow-level timeout passed (a running step stops on its own)."""
    now = now or timezone.now()
    for execution in WorkflowExecution.objects.filter(status__in=EXECUTION_ACTIVE_STATUSES, deadline__lt=now):
        message = "the workflow's timeout expired"
        with transaction.atomic():
            locked = WorkflowExecution.objects.select_for_update().get(pk=execution.pk)
            if locked.is_terminal:
                continue
            if locked.status == ExecutionStatus.WAITING:
                locked.transition(ExecutionStatus.RUNNING)
            locked.steps.filter(status__in=[StepStatus.PENDING, StepStatus.WAITING]).update(
                status=StepStatus.CANCELLED, completed_at=now, error_message=message
            )
            locked.finish(ExecutionStatus.FAILED, message)
        report.timed_out.append(execution.pk)


def reap() -> ReapReport:
    """One recovery pass; safe to run from several workers at once (every change is conditional)."""
    report = ReapReport()
    for step in expired_steps():
        recover_step(step, report)
    time_out_executions(report)
    for execution_id in stalled_executions():
        scheduler.advance_and_dispatch(execution_id)
        report.advanced.append(execution_id)
    return report
