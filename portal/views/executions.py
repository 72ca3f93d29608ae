"""Workflow executions: the filterable list, the detail page, and its live fragments (status and logs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from portal.forms import ExecutionFilterForm
from portal.graph import render_gantt, render_step_graph
from portal.permissions import may, requires
from portal.queries import paginate_executions, visible_executions
from portal.status import execution_state
from workflows.choices import EXECUTION_TERMINAL_STATUSES, ExecutionStatus, StepStatus
from workflows.models import StepExecution, StepLog, WorkflowExecution

# Lines shown when the page opens; older ones stay available through the API.
LOG_TAIL = 1000
# Lines per poll; a busy step catches up over a few polls instead of one huge answer.
LOG_BATCH = 500
ENGINE_PANEL = "engine"
SUCCESSFUL_STEP_STATUSES = frozenset({StepStatus.COMPLETED, StepStatus.SKIPPED})
LIVE_STEP_STATUSES = frozenset({StepStatus.RUNNING, StepStatus.WAITING})


@require_GET
@requires("workflows:read")
def execution_list(request: HttpRequest) -> HttpResponse:
    """Executions of the user's teams, newest first, filtered by application, workflow, status and time."""
    form = ExecutionFilterForm(request.GET or None)
    executions = visible_executions(request.user).order_by("-created_at", "-id")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("app"):
            executions = executions.filter(app_name__icontains=data["app"])
        if data.get("workflow"):
            executions = executions.filter(workflow_name__icontains=data["workflow"])
        if data.get("status"):
            executions = executions.filter(status=data["status"])
        since = form.since()
        if since is not None:
            executions = executions.filter(created_at__gte=since)
    return render(
        request,
        "portal/executions/list.html",
        {"form": form, "page": paginate_executions(request, executions)},
    )


def visible_execution(request: HttpRequest, execution_id: str) -> WorkflowExecution:
    """The execution if the user's teams may see it (404 otherwise, never 403: ids must not leak)."""
    queryset = visible_executions(request.user).select_related(
        "triggered_by", "revision", "application", "parent"
    )
    return get_object_or_404(queryset, pk=execution_id)


def _steps(execution: WorkflowExecution) -> list[StepExecution]:
    return list(execution.steps.select_related("decided_by").order_by("position", "id"))


def actions_signature(execution: WorkflowExecution, steps: list[StepExecution]) -> str:
    """What the available actions depend on; the action forms are re-rendered only when it changes."""
    waiting = sorted(step.name for step in steps if step.status == StepStatus.WAITING)
    return f"{execution.status}|{','.join(waiting)}"


def live_context(request: HttpRequest, execution: WorkflowExecution) -> dict[str, Any]:
    """Everything the live region and the action forms show."""
    steps = _steps(execution)
    now = timezone.now()
    # Done means it ran to its end or was rightly skipped: a failed or cancelled run never shows a full bar.
    done = sum(1 for step in steps if step.status in SUCCESSFUL_STEP_STATUSES)
    may_act = may(request.user, "workflows:write")
    return {
        "execution": execution,
        "execution_state": execution_state(execution, steps),
        "steps": steps,
        "now": now,
        "steps_done": done,
        "steps_total": len(steps),
        # The page follows the run until every step is final: the run's end is written before the
        # last steps are (a cancelled run's running step is marked cancelled by its worker or the reaper).
        "following": not execution.is_terminal or any(step.status in LIVE_STEP_STATUSES for step in steps),
        "graph": render_step_graph(steps, title=f"Steps of {execution.pk}"),
        "gantt": render_gantt(steps, now=now, title=f"Timeline of {execution.pk}"),
        "signature": actions_signature(execution, steps),
        "may_act": may_act,
        "can_cancel": may_act and not execution.is_terminal,
        "can_retry": may_act and execution.status in (ExecutionStatus.FAILED, ExecutionStatus.CANCELLED),
        "waiting_steps": [step for step in steps if step.status == StepStatus.WAITING] if may_act else [],
    }


def _log_panels(execution: WorkflowExecution) -> tuple[dict[str, list[StepLog]], int, bool]:
    """The last LOG_TAIL lines grouped by panel key, the id to poll after, and whether older lines exist."""
    recent = list(StepLog.objects.filter(execution=execution).order_by("-id")[: LOG_TAIL + 1])
    truncated = len(recent) > LOG_TAIL
    lines = list(reversed(recent[:LOG_TAIL]))
    panels: dict[str, list[StepLog]] = defaultdict(list)
    for line in lines:
        panels[str(line.step_id) if line.step_id else ENGINE_PANEL].append(line)
    return panels, (lines[-1].id if lines else 0), truncated


@require_GET
@requires("workflows:read")
def execution_detail(request: HttpRequest, execution_id: str) -> HttpResponse:
    """One execution: header, live progress/graph/timeline/steps, actions and per-step log tails."""
    execution = visible_execution(request, execution_id)
    context = live_context(request, execution)
    panels, last_id, truncated = _log_panels(execution)
    context.update(
        log_panels=[(step, panels.get(str(step.pk), [])) for step in context["steps"]],
        engine_lines=panels.get(ENGINE_PANEL, []),
        after=last_id,
        logs_truncated=truncated,
        polling_logs=context["following"],
        retries=list(execution.retries.order_by("-created_at").values_list("pk", flat=True)[:5]),
    )
    return render(request, "portal/executions/detail.html", context)


@require_GET
@requires("workflows:read")
def execution_status(request: HttpRequest, execution_id: str) -> HttpResponse:
    """The live region, polled every 2 s while running; the action forms only when they changed."""
    execution = visible_execution(request, execution_id)
    context = live_context(request, execution)
    context["actions_oob"] = request.GET.get("sig") != context["signature"]
    return render(request, "portal/executions/status_fragment.html", context)


def _after(request: HttpRequest) -> int:
    raw = request.GET.get("after", "0")
    return int(raw) if raw.isdigit() else 0


@require_GET
@requires("workflows:read")
def execution_logs(request: HttpRequest, execution_id: str) -> HttpResponse:
    """New log lines after `after`, appended to their step panels; polling stops once none can come."""
    execution = visible_execution(request, execution_id)
    after = _after(request)
    # Read the status before the lines: every line written before the end is then in this answer.
    ended = (
        execution.status in EXECUTION_TERMINAL_STATUSES
        and not execution.steps.filter(status__in=LIVE_STEP_STATUSES).exists()
    )
    lines: QuerySet[StepLog] = StepLog.objects.filter(execution=execution, id__gt=after).order_by("id")
    batch = list(lines[:LOG_BATCH])
    groups: dict[str, list[StepLog]] = defaultdict(list)
    for line in batch:
        groups[str(line.step_id) if line.step_id else ENGINE_PANEL].append(line)
    context = {
        "execution": execution,
        "groups": sorted(groups.items()),
        "after": batch[-1].id if batch else after,
        "polling_logs": not (ended and len(batch) < LOG_BATCH),
    }
    return render(request, "portal/executions/logs_fragment.html", context)


@require_GET
@requires("workflows:read")
def execution_log_download(request: HttpRequest, execution_id: str) -> StreamingHttpResponse:
    """The whole log as plain text (`?step=` for one step), streamed so a long log is never held in memory."""
    execution = visible_execution(request, execution_id)
    lines = StepLog.objects.filter(execution=execution).order_by("id")
    step = request.GET.get("step", "")
    if step:
        lines = lines.filter(step__name=step)
    rows = lines.values_list("created_at", "step__name", "stream", "message").iterator(chunk_size=2000)

    def text() -> Iterator[str]:
        for created_at, name, stream, message in rows:
            yield f"{created_at.isoformat()} [{name or 'engine'}] {stream}: {message}\n"

    response = StreamingHttpResponse(text(), content_type="text/plain; charset=utf-8")
    suffix = f"-{slugify(step)}" if step else ""
    response["Content-Disposition"] = f'attachment; filename="{execution.pk}{suffix}.log"'
    return response
