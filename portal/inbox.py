"""The inbox: approvals waiting on the user (their gate policy allows them to decide) and failed runs
of their teams' applications that nobody retried yet. Counts feed the navigation and the dashboard."""

from __future__ import annotations

import time
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


# The navigation's counts may be a few seconds old: computing them costs more than a page's own queries.
COUNT_TTL = 10.0
_recent: dict[int, tuple[float, Inbox]] = {}


def cached_inbox(user: Any, *, fresh: bool = False) -> Inbox:
    """The user's inbox, reused for COUNT_TTL seconds by this process (the inbox page always reads it anew)."""
    now = time.monotonic()
    hit = _recent.get(user.pk)
    if hit is not None and not fresh and now - hit[0] < COUNT_TTL:
        return hit[1]
    inbox = inbox_for(user)
    if len(_recent) > 10_000:
        _recent.clear()
    _recent[user.pk] = (now, inbox)
    return inbox


def inbox_counts(request: HttpRequest) -> dict[str, Any]:
    """Template context processor: the inbox count for the navigation (signed-in users only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(("/api/", "/admin/")):
        return {}
    if request.headers.get("HX-Request") and request.path != "/":
        # Live fragments (status, logs) show no navigation; the dashboard's refresh shows the banner.
        return {}
    if not may(user, "workflows:read"):
        return {}
    inbox = cached_inbox(user, fresh=request.path == "/inbox")
    return {
        "inbox_approvals": len(inbox.approvals),
        "inbox_failures": len(inbox.failures),
        "inbox_total": inbox.count,
        "inbox": inbox,
    }
