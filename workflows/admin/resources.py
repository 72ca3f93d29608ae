"""Admin for resource instances and their state transitions; secret outputs are never shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from workflows.admin.base import ReadOnlyAdminMixin, ReadOnlyInline
from workflows.models import ResourceInstance, ResourceStateTransition


class AppliedFilter(admin.SimpleListFilter):
    """Whether a resource's provider really applied it, or only rendered it (render-only mode)."""

    title = "applied to the cluster"
    parameter_name = "applied"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "applied"), ("no", "rendered, not applied"), ("unknown", "not run yet / external")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "yes":
            return queryset.filter(metadata__applied=True)
        if value == "no":
            return queryset.filter(metadata__applied=False)
        if value == "unknown":
            return queryset.exclude(metadata__has_key="applied")
        return queryset


class TransitionInline(ReadOnlyInline):
    """The state history of a resource, oldest first."""

    model = ResourceStateTransition
    fields = ("created_at", "from_state", "to_state", "reason", "actor", "execution_id")
    readonly_fields = fields
    ordering = ["created_at", "id"]
    show_change_link = False


@admin.register(ResourceInstance)
class ResourceInstanceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Resources change state only through their transitions, never by hand in the admin."""

    list_display = [
        "__str__",
        "app_name",
        "resource_name",
        "resource_type",
        "state",
        "shown_as",
        "applied",
        "kind",
        "provider",
        "updated_at",
    ]
    list_filter = ["state", AppliedFilter, "resource_type", "kind", "provider", "created_at"]
    search_fields = ["app_name", "resource_name", "resource_type", "provider"]
    ordering = ["app_name", "resource_name"]
    inlines = [TransitionInline]
    # secret_outputs is deliberately absent: it must not reach a page even in encrypted form.
    readonly_fields = (
        "application",
        "app_name",
        "resource_name",
        "resource_type",
        "resource_class",
        "resource_id",
        "state",
        "shown_as",
        "applied",
        "kind",
        "provider",
        "params",
        "metadata",
        "outputs",
        "hints",
        "reference_url",
        "error_message",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    exclude = ["secret_outputs"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ResourceInstance]:
        return super().get_queryset(request).defer("secret_outputs")

    @admin.display(description="Shown as", ordering="state")
    def shown_as(self, obj: ResourceInstance) -> str:
        return obj.state_label

    @admin.display(description="Applied", boolean=True)
    def applied(self, obj: ResourceInstance) -> bool | None:
        return obj.applied


@admin.register(ResourceStateTransition)
class ResourceStateTransitionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every state change of every resource, e.g. all failures of the last day."""

    list_display = ["created_at", "resource", "from_state", "to_state", "actor", "execution_id", "reason"]
    list_filter = ["to_state", "from_state", "created_at"]
    search_fields = ["resource__app_name", "resource__resource_name", "=execution_id", "actor"]
    list_select_related = ["resource"]
    ordering = ["-created_at", "-id"]
    readonly_fields = ("resource", "from_state", "to_state", "reason", "actor", "execution_id", "created_at")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ResourceStateTransition]:
        return (
            super()
            .get_queryset(request)
            .defer(
                "resource__secret_outputs",
                "resource__params",
                "resource__metadata",
                "resource__outputs",
                "resource__hints",
            )
        )
