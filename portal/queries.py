"""Querysets the portal pages share; every one starts from what the user's teams may see."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from innominatus.accounts.access import team_filter
from workflows.choices import StepStatus
from workflows.models import Application, ResourceInstance, WorkflowExecution

PAGE_SIZE = 25


def visible_applications(user: Any) -> QuerySet[Application]:
    """Applications of the user's teams (all of them for platform admins)."""
    return Application.objects.filter(team_filter(user))


def visible_executions(user: Any) -> QuerySet[WorkflowExecution]:
    """Executions of the user's teams."""
    return WorkflowExecution.objects.filter(team_filter(user))


def visible_resources(user: Any) -> QuerySet[ResourceInstance]:
    """Resources of the user's teams' applications."""
    return ResourceInstance.objects.filter(team_filter(user, "application__team"))


def with_progress(executions: QuerySet[WorkflowExecution]) -> QuerySet[WorkflowExecution]:
    """Executions annotated with their step counts (one query, no per-row lookups)."""
    return (
        executions.select_related("triggered_by")
        .defer("definition", "variables", "outputs")
        .annotate(
            steps_total=Count("steps", distinct=True),
            # Completed or skipped only: a failed or cancelled run never shows a full progress bar.
            steps_done=Count(
                "steps", filter=Q(steps__status__in=[StepStatus.COMPLETED, StepStatus.SKIPPED]), distinct=True
            ),
        )
    )


def paginate(request: HttpRequest, items: QuerySet[Any], *, per_page: int = PAGE_SIZE) -> Page[Any]:
    """The requested page (`?page=`); out-of-range or malformed numbers fall back to the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
