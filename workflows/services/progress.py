"""Per-page decoration of execution lists: step progress and revision numbers for just the page's rows.

A list page is chosen first, on indexed columns alone (innominatus.keyset); only then are its rows
decorated, with one grouped query over the steps of those executions (served by the unique
(execution, name) index) and one over their revisions. Counting steps with a join over every execution
before the LIMIT would cost a scan of all steps on every page; counters on the execution row would cost
every step transition a second write. Here the cost is O(page) and the step path is untouched.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Q

from workflows.choices import STEP_TERMINAL_STATUSES, StepStatus
from workflows.models import DeploymentRevision, StepExecution, WorkflowExecution


def decorate(executions: Iterable[WorkflowExecution], *, revisions: bool = True) -> list[WorkflowExecution]:
    """Set steps_total, steps_finished (final in any way), steps_done (completed or skipped: a failed or
    cancelled run never shows a full progress bar) and (unless not wanted) revision_number."""
    rows = list(executions)
    ids = [row.pk for row in rows]
    counts: dict[str, tuple[int, int, int]] = {}
    if ids:
        grouped = (
            StepExecution.objects.filter(execution_id__in=ids)
            .order_by()
            .values("execution_id")
            .annotate(
                total=Count("id"),
                finished=Count("id", filter=Q(status__in=STEP_TERMINAL_STATUSES)),
                done=Count("id", filter=Q(status__in=(StepStatus.COMPLETED, StepStatus.SKIPPED))),
            )
        )
        counts = {row["execution_id"]: (row["total"], row["finished"], row["done"]) for row in grouped}
    revision_ids = {row.revision_id for row in rows if row.revision_id is not None}
    numbers: dict[int, int] = {}
    if revision_ids and revisions:
        numbers = dict(DeploymentRevision.objects.filter(pk__in=revision_ids).values_list("pk", "number"))
    for row in rows:
        total, finished, done = counts.get(row.pk, (0, 0, 0))
        row.steps_total = total  # type: ignore[attr-defined]
        row.steps_finished = finished  # type: ignore[attr-defined]
        row.steps_done = done  # type: ignore[attr-defined]
        row.revision_number = numbers.get(row.revision_id) if row.revision_id else None  # type: ignore[attr-defined]
    return rows
