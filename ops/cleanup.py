"""Retention: delete finished executions (with steps and logs), q2 task history, expired sessions,
audit events, and API keys that expired or were revoked, older than a cut-off.

Executions go in small batches, each in its own transaction, so that a cleanup of millions of log
lines never holds long locks or loads rows into memory: on PostgreSQL one SQL statement per batch
(ops.cleanup_sql, followed by VACUUM (ANALYZE)); elsewhere through the ORM by id.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from innominatus.accounts.services import purge_api_keys, purge_audit_events
from ops import cleanup_sql
from workflows.choices import EXECUTION_TERMINAL_STATUSES
from workflows.models import StepExecution, StepLog, WorkflowExecution

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class CleanupReport:
    """What a cleanup deleted (or, in a dry run, would delete)."""

    cutoff: datetime
    dry_run: bool
    executions: int = 0
    steps: int = 0
    logs: int = 0
    q2_tasks: int = 0
    sessions: int = 0
    audit_events: int = 0
    api_keys: int = 0

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        return data


def old_executions(cutoff: datetime) -> QuerySet[WorkflowExecution]:
    """Finished executions that ended before `cutoff` (created_at narrows the scan through its index)."""
    return WorkflowExecution.objects.filter(
        status__in=EXECUTION_TERMINAL_STATUSES, created_at__lt=cutoff, completed_at__lt=cutoff
    ).order_by()


def _expired_sessions() -> QuerySet[Model] | None:
    if not settings.SESSION_ENGINE.endswith((".db", ".cached_db")):
        return None
    from django.contrib.sessions.models import Session

    return Session.objects.filter(expire_date__lt=timezone.now())


def _q2_history(cutoff: datetime) -> QuerySet[Model]:
    from django_q.models import Task

    return Task.objects.filter(stopped__lt=cutoff)


def _delete_executions(
    queryset: QuerySet[WorkflowExecution], report: CleanupReport, cutoff: datetime
) -> None:
    if cleanup_sql.supported():
        deleted = cleanup_sql.delete_old_executions(cutoff, batch=BATCH_SIZE)
        report.executions, report.steps, report.logs = deleted.executions, deleted.steps, deleted.logs
        return
    while True:
        ids = list(queryset.values_list("id", flat=True)[:BATCH_SIZE])
        if not ids:
            return
        with transaction.atomic():
            # Children first with single DELETE statements, so the collector finds nothing to load.
            report.logs += StepLog.objects.filter(execution_id__in=ids).delete()[0]
            report.steps += StepExecution.objects.filter(execution_id__in=ids).delete()[0]
            _, per_model = WorkflowExecution.objects.filter(id__in=ids).delete()
            report.executions += per_model.get(WorkflowExecution._meta.label, 0)


def cleanup(*, days: int, dry_run: bool = False) -> CleanupReport:
    """Apply the retention of `days` days; in a dry run only count."""
    now = timezone.now()
    cutoff = now - timedelta(days=days)
    report = CleanupReport(cutoff=cutoff, dry_run=dry_run)
    executions = old_executions(cutoff)
    sessions = _expired_sessions()
    history = _q2_history(cutoff)
    # Identity data belongs to accounts: its services decide what is old there (and count in a dry run).
    report.audit_events = purge_audit_events(cutoff, dry_run=dry_run)
    report.api_keys = purge_api_keys(cutoff, dry_run=dry_run)
    if dry_run:
        report.executions = executions.count()
        report.steps = StepExecution.objects.filter(execution__in=executions).count()
        report.logs = StepLog.objects.filter(execution__in=executions).count()
        report.q2_tasks = history.count()
        report.sessions = sessions.count() if sessions is not None else 0
        return report
    _delete_executions(executions, report, cutoff)
    report.q2_tasks = history.delete()[0]
    report.sessions = sessions.delete()[0] if sessions is not None else 0
    logger.info("cleanup finished", extra=report.as_dict())
    return report
