"""The operator dashboard (`/admin/operations/`): stuck runs, worker heartbeats, queue depth, failures.

It reads what the reaper and the workers already record — step leases are the workers' heartbeats,
the django-q2 ORM queue is the backlog — and offers the two platform-wide actions: run the reaper
once and reload the providers. Both are POSTs, limited to platform admins and audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from innominatus.accounts.access import is_platform_admin
from workflows.admin.operations import _audit, require_platform_admin
from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution
from workflows.providers.registry import reload_providers
from workflows.services import reaper

RECENT = timedelta(hours=24)


def _queue_depth() -> int | None:
    try:
        from django_q.models import OrmQ
    except ImportError:  # pragma: no cover - django-q2 is a dependency
        return None
    return OrmQ.objects.count()


def _heartbeats() -> QuerySet[Any]:
    """Workers that hold a step lease now, with their latest lease renewal (their heartbeat)."""
    return (
        StepExecution.objects.exclude(lease_owner="")
        .filter(status=StepStatus.RUNNING)
        .values("lease_owner")
        .annotate(steps=Count("id"), lease_until=Max("lease_expires_at"))
        .order_by("lease_owner")
    )


def operations_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    expired = reaper.expired_steps(now)
    stalled = reaper.stalled_executions(now)
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "now": now,
        "expired_steps": expired,
        "stalled": WorkflowExecution.objects.filter(pk__in=stalled).order_by("created_at"),
        "long_running": WorkflowExecution.objects.filter(
            status=ExecutionStatus.RUNNING, started_at__lt=now - timedelta(hours=1)
        ).order_by("started_at")[:20],
        "waiting": WorkflowExecution.objects.filter(status=ExecutionStatus.WAITING).count(),
        "heartbeats": list(_heartbeats()),
        "queue_depth": _queue_depth(),
        "failures": WorkflowExecution.objects.filter(
            status=ExecutionStatus.FAILED, created_at__gte=now - RECENT
        )
        .defer("definition", "variables", "outputs")
        .order_by("-created_at")[:15],
        "may_act": is_platform_admin(request.user),
    }
    return TemplateResponse(request, "admin/workflows/operations.html", context)


@require_POST
def run_reaper_view(request: HttpRequest) -> HttpResponse:
    require_platform_admin(request)
    report = reaper.reap()
    summary = {key: list(value) for key, value in vars(report).items() if isinstance(value, list)}
    _audit(request, "reaper.run", "reaper", "done", **summary)
    messages.success(request, "Reaper ran: " + ", ".join(f"{k} {len(v)}" for k, v in summary.items()) + ".")
    return redirect(reverse("admin-operations"))


@require_POST
def reload_providers_view(request: HttpRequest) -> HttpResponse:
    require_platform_admin(request)
    registry, generation = reload_providers(actor=request.user.get_username())
    _audit(request, "providers.reload", "providers", "done", generation=generation)
    messages.success(request, f"Providers reloaded (generation {generation}).")
    del registry
    return redirect(reverse("admin-operations"))
