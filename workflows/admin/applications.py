"""Admin for applications and their deployment revisions, with a diff view between revisions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.utils.safestring import SafeString

from workflows.admin.base import ReadOnlyAdminMixin, admin_link, changelist_link, yaml_block
from workflows.admin.deployments import rollback_to_revision
from workflows.models import Application, DeploymentRevision
from workflows.services import delete_application, diff_revisions
from workflows.services.diffing import revision_document

_DOCUMENTS = ("spec", "extensions", "source")


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Applications are created by spec submissions; the admin shows and deletes them."""

    list_display = ["name", "team", "current", "revision_count", "deploy_state", "created_by", "updated_at"]
    # deploy_state has choices: the list, the filter and the page show their words ("rendered, not applied").
    list_filter = ["team", "deploy_state", "created_at"]
    search_fields = ["name", "team__name"]
    list_select_related = ["team", "created_by", "current_revision"]
    readonly_fields = (
        "name",
        "team",
        "created_by",
        "current",
        "deploy_state",
        "deploy_message",
        "related",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return (
            super()
            .get_queryset(request)
            .annotate(revision_count=Count("revisions", distinct=True))
            .defer(*(f"current_revision__{name}" for name in _DOCUMENTS))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Application | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # Deleting deprovisions every resource: one application at a time, from its own page, never in bulk.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="Current revision", ordering="current_revision__number")
    def current(self, obj: Application) -> SafeString | str:
        if obj.current_revision is None:
            return "—"
        return admin_link("deploymentrevision", obj.current_revision_id, f"#{obj.current_revision.number}")

    @admin.display(description="Revisions", ordering="revision_count")
    def revision_count(self, obj: Application) -> int:
        return int(getattr(obj, "revision_count", 0))

    @admin.display(description="Related")
    def related(self, obj: Application) -> SafeString:
        return format_html(
            "{} · {} · {}",
            changelist_link("deploymentrevision", f"application__id__exact={obj.pk}", "revisions"),
            changelist_link("workflowexecution", f"app_name={obj.name}", "executions"),
            changelist_link("resourceinstance", f"app_name={obj.name}", "resources"),
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple[Any, Any, set[str], Any]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Revisions go with their application, although nobody may delete a single revision.
        perms_needed.discard(str(DeploymentRevision._meta.verbose_name))
        return deleted, counts, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: Application) -> None:
        delete_application(application=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        for application in queryset:
            delete_application(application=application, user=request.user)


@admin.register(DeploymentRevision)
class DeploymentRevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Revisions are immutable; each one can be compared with any other of its application."""

    list_display = [
        "__str__",
        "application",
        "number",
        "short_hash",
        "comment",
        "created_by",
        "created_at",
        "diff",
    ]
    list_filter = ["application__team", "created_at"]
    search_fields = ["application__name", "=content_hash", "comment"]
    list_select_related = ["application", "created_by"]
    readonly_fields = (
        "application",
        "number",
        "content_hash",
        "comment",
        "rolled_back_from",
        "created_by",
        "created_at",
        "diff",
        "document",
        "source",
    )
    fields = readonly_fields
    ordering = ["application__name", "-number"]
    actions = [rollback_to_revision]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeploymentRevision]:
        queryset = super().get_queryset(request)
        if request.resolver_match and (request.resolver_match.url_name or "").endswith("changelist"):
            queryset = queryset.defer(*_DOCUMENTS)
        return queryset

    @admin.display(description="Hash")
    def short_hash(self, obj: DeploymentRevision) -> str:
        return obj.content_hash[:12]

    @admin.display(description="Diff")
    def diff(self, obj: DeploymentRevision) -> SafeString | str:
        if obj.number <= 1:
            return "—"
        return admin_link("deploymentrevision", obj.pk, "with previous", action="diff")

    @admin.display(description="Canonical document")
    def document(self, obj: DeploymentRevision) -> SafeString:
        return yaml_block(revision_document(obj))

    def get_urls(self) -> list[URLPattern]:
        diff = path(
            "<path:object_id>/diff/",
            self.admin_site.admin_view(self.diff_view),
            name="workflows_deploymentrevision_diff",
        )
        return [diff, *super().get_urls()]

    def diff_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Unified diff of a revision against the previous one (or `?against=<number>`)."""
        revision = get_object_or_404(DeploymentRevision.objects.select_related("application"), pk=object_id)
        if not self.has_view_permission(request, revision):
            raise Http404
        others = DeploymentRevision.objects.filter(application_id=revision.application_id).select_related(
            "application"
        )
        against = request.GET.get("against", "")
        if against.isdigit():
            base: DeploymentRevision | None = get_object_or_404(others, number=int(against))
        else:
            base = others.filter(number__lt=revision.number).order_by("-number").first()
        if base is None:
            raise Http404("this is the first revision; nothing to compare with")
        result = diff_revisions(base, revision)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{revision.application.name}: revision {base.number} → {revision.number}",
            "revision": revision,
            "base": base,
            "lines": [_classify(line) for line in result["unified"].splitlines()],
            "changes": result["changes"],
            "numbers": list(others.order_by("-number").values_list("number", flat=True)),
        }
        return TemplateResponse(request, "admin/workflows/deploymentrevision/diff.html", context)


def _classify(line: str) -> dict[str, Any]:
    kind = "context"
    if line.startswith(("+++", "---")):
        kind = "file"
    elif line.startswith("@@"):
        kind = "hunk"
    elif line.startswith("+"):
        kind = "added"
    elif line.startswith("-"):
        kind = "removed"
    return {"kind": kind, "text": line}
