"""The dashboard: counts, recent executions and the executions-per-hour chart."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET

from portal.charts import HourBucket, render_hourly_chart
from portal.permissions import requires
from portal.queries import visible_applications, visible_executions, visible_resources
from workflows.choices import ExecutionStatus, ResourceState
from workflows.services import progress

HOURS = 24
RECENT = 8


def _hour_buckets(rows: list[dict[str, object]], first_hour: datetime) -> list[HourBucket]:
    counts: dict[datetime, dict[str, int]] = {first_hour + timedelta(hours=i): {} for i in range(HOURS)}
    for row in rows:
        hour = row["hour"]
        if not isinstance(hour, datetime) or hour not in counts:
            continue
        status = str(row["status"])
        series = status if status in ("completed", "failed", "cancelled") else "active"
        counts[hour][series] = counts[hour].get(series, 0) + int(str(row["n"]))
    return [HourBucket(start=hour, **values) for hour, values in counts.items()]


@require_GET
@requires("workflows:read")
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts, the last day's executions per hour and success rate, and the most recent executions."""
    now = timezone.now()
    since = now - timedelta(hours=HOURS)
    executions = visible_executions(request.user)
    # Each count reads an index range that does not grow with history: the last day's executions
    # (created_at) and the active ones (status); never an aggregate over every execution.
    totals = executions.filter(created_at__gte=since).aggregate(
        failed=Count("pk", filter=Q(status=ExecutionStatus.FAILED)),
        completed=Count("pk", filter=Q(status=ExecutionStatus.COMPLETED)),
        total=Count("pk"),
    )
    # A run waiting for a person is not running: it has its own count.
    totals["running"] = executions.filter(
        status__in=[ExecutionStatus.PENDING, ExecutionStatus.RUNNING]
    ).count()
    totals["waiting"] = executions.filter(status=ExecutionStatus.WAITING).count()
    finished = totals["completed"] + totals["failed"]
    success_rate = round(100 * totals["completed"] / finished) if finished else None
    first_hour = (now - timedelta(hours=HOURS - 1)).replace(minute=0, second=0, microsecond=0)
    hourly = list(
        executions.filter(created_at__gte=first_hour)
        .annotate(hour=TruncHour("created_at"))
        .values("hour", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_state = dict(
        visible_resources(request.user).values_list("state").annotate(n=Count("pk")).order_by("state")
    )
    resource_states = [
        (state.value, by_state.get(state.value, 0)) for state in ResourceState if by_state.get(state)
    ]
    context = {
        "application_count": visible_applications(request.user).count(),
        "totals": totals,
        "success_rate": success_rate,
        "resource_states": resource_states,
        "resource_total": sum(by_state.values()),
        "chart": render_hourly_chart(
            _hour_buckets(hourly, first_hour), title="Executions per hour, last 24 hours"
        ),
        "recent": progress.decorate(
            executions.select_related("triggered_by")
            .defer("definition", "variables", "outputs")
            .order_by("-created_at", "-id")[:RECENT],
            revisions=False,
        ),
    }
    return render(request, "portal/dashboard.html", context)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """The SVG favicon (cacheable for a day), for browsers that ask for /favicon.ico."""
    response = redirect(static("portal/favicon.svg"))
    response["Cache-Control"] = "public, max-age=86400"
    return response
