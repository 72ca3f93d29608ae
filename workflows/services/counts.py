"""Execution counts by status for what a user may see, read from maintained counters, not from history.

PostgreSQL keeps workflow_execution_counts exact with triggers (migration 0009), so the answer costs
one row per (team, status) whatever the number of executions. Elsewhere (SQLite, for development) the
table is not maintained and the counts are an aggregate over the executions.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Count, Sum

from innominatus.accounts.access import is_platform_admin, team_filter, visible_teams
from workflows.choices import ExecutionStatus
from workflows.models import ExecutionStatusCount, WorkflowExecution


def maintained() -> bool:
    """Whether the counters are kept by the database (PostgreSQL triggers)."""
    return connection.vendor == "postgresql"


def execution_counts(user: Any) -> dict[str, int]:
    """Executions per status (every status present, 0 when none) among the user's teams'."""
    counts = dict.fromkeys((value for value, _ in ExecutionStatus.choices), 0)
    if maintained():
        rows = ExecutionStatusCount.objects.all()
        if not is_platform_admin(user):
            rows = rows.filter(team_key__in=visible_teams(user).values("pk"))
        pairs: Any = rows.order_by().values_list("status").annotate(total=Sum("n"))
    else:
        pairs = (
            WorkflowExecution.objects.filter(team_filter(user))
            .order_by()
            .values_list("status")
            .annotate(total=Count("pk"))
        )
    for status, total in pairs:
        counts[status] = int(total or 0)
    return counts
