"""FilterSets of the workflows API; every filter here is backed by an index (see the models' Meta)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters

from workflows.choices import ExecutionStatus, ResourceKind, ResourceState
from workflows.models import Application, ResourceInstance, WorkflowExecution


class ChoiceInFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """A comma-separated list of choices (`?status=running,failed`), each one validated."""


class ApplicationFilter(filters.FilterSet):
    """Filters of the application list."""

    team = filters.CharFilter(field_name="team__name", help_text="Owning team (exact name).")
    search = filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Substring of the name."
    )

    class Meta:
        model = Application
        fields = ["team", "search"]


class ExecutionFilter(filters.FilterSet):
    """Filters of the execution list."""

    app = filters.CharFilter(field_name="app_name", help_text="Application name (exact).")
    status = ChoiceInFilter(
        field_name="status", lookup_expr="in", choices=ExecutionStatus.choices, help_text="Comma-separated."
    )
    workflow_name = filters.CharFilter(field_name="workflow_name")
    search = filters.CharFilter(
        method="filter_search", help_text="Substring of the id, app or workflow name."
    )
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    since = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Alias of created_after."
    )
    until = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Alias of created_before."
    )

    class Meta:
        model = WorkflowExecution
        fields = [
            "app",
            "status",
            "workflow_name",
            "search",
            "created_after",
            "created_before",
            "since",
            "until",
        ]

    def filter_search(
        self, queryset: QuerySet[WorkflowExecution], name: str, value: str
    ) -> QuerySet[WorkflowExecution]:
        """Match the id, application or workflow name."""
        return queryset.filter(
            Q(id__icontains=value) | Q(app_name__icontains=value) | Q(workflow_name__icontains=value)
        )


class ResourceFilter(filters.FilterSet):
    """Filters of the resource list."""

    app = filters.CharFilter(field_name="app_name", help_text="Application name (exact).")
    type = filters.CharFilter(field_name="resource_type", help_text="Resource type, e.g. postgres.")
    state = ChoiceInFilter(
        field_name="state", lookup_expr="in", choices=ResourceState.choices, help_text="Comma-separated."
    )
    kind = filters.ChoiceFilter(field_name="kind", choices=ResourceKind.choices)
    provider = filters.CharFilter(field_name="provider")

    class Meta:
        model = ResourceInstance
        fields = ["app", "type", "state", "kind", "provider"]
