"""The inbox: approvals waiting on the user (their gate policy allows them to decide) and failed runs
of their teams' applications that nobody retried yet. Counts feed the navigation and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone

from portal.permissions import may
from portal.queries import visible_executions
from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution
from workflows.services.executions import DecisionRefused, _check_decider

FAILED_WINDOW = timedelta(days=7)
LIMIT = 50


@dataclass(frozen=True, slots=True)
class Inbox:
    approvals: list[StepExecution]
    failures: list[WorkflowExecution]

    @property
    def count(self) -> int:
        return len(self.approvals) + len(self.failures)


def _mine(step: StepExecution, user: Any) -> bool:
    try:
        _check_decider(step.execution, step, user, approving=True)
    except DecisionRefused:
        return False
    return True


def inbox_for(user: Any) -> Inbox:
    """What needs the user: gates they may decide, and their teams' unretried failures of the last week."""
    approvals: list[StepExecution] = []
    if may(user, "workflows:write"):
        waiting = (
            StepExecution.objects.filter(
                status=StepStatus.WAITING, execution__in=visible_executions(user).filter(status="waiting")
            )
            .select_related("execution", "execution__triggered_by")
            .order_by("execution__created_at", "position")[:LIMIT]
        )
        approvals = [step for step in waiting if _mine(step, user)]
    retried = WorkflowExecution.objects.filter(parent=OuterRef("pk"))
    failures = list(
        visible_executions(user)
        .filter(status=ExecutionStatus.FAILED, created_at__gte=timezone.now() - FAILED_WINDOW)
        .exclude(Exists(retried))
        .defer("definition", "variables", "outputs")
        .order_by("-created_at")[:LIMIT]
    )
    return Inbox(approvals=approvals, failures=failures)


def inbox_counts(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: the inbox count for the navigation (signed-in users only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(("/api/", "/admin/")):
        return {}
    if not may(user, "workflows:read"):
        return {}
    inbox = inbox_for(user)
    return {
        "inbox_approvals": len(inbox.approvals),
        "inbox_failures": len(inbox.failures),
        "inbox_total": inbox.count,
        "inbox": inbox,
    }
