"""Admin actions that deploy: roll an application back to a revision (a new revision with its spec)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from innominatus.problems import ProblemError
from workflows.models import DeploymentRevision
from workflows.services.deployments import rollback_application


@admin.action(description="Roll back to the selected revision (deploys its spec as a new revision)")
def rollback_to_revision(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[DeploymentRevision]
) -> None:
    """The admin's counterpart of POST /api/applications/{name}/rollback."""
    if queryset.count() != 1:
        modeladmin.message_user(request, "Select exactly one revision to roll back to.", messages.ERROR)
        return
    revision = queryset.select_related("application").get()
    try:
        created, execution = rollback_application(
            application=revision.application, number=revision.number, user=request.user
        )
    except ProblemError as exc:
        modeladmin.message_user(request, str(exc.detail), messages.ERROR)
        return
    modeladmin.message_user(
        request,
        f"{revision.application.name}: revision {created.number} re-deploys revision {revision.number} "
        f"(execution {execution.pk}).",
        messages.SUCCESS,
    )
