"""Admin for workflow executions, their steps and step logs: read-only run records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from innominatus.pagination import EstimatedCountPaginator
from workflows.admin.base import (
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    admin_link,
    changelist_link,
    format_duration,
    yaml_block,
)
from workflows.admin.operations import EXECUTION_ACTIONS, operator_actions
from workflows.choices import STEP_TERMINAL_STATUSES
from workflows.models import StepExecution, StepLog, WorkflowExecution

_EXECUTION_DOCUMENTS = ("definition", "parameters", "variables", "outputs")


def _count(rows: QuerySet[Any]) -> Subquery:
    """COUNT(*) of `rows` as a correlated subquery: evaluated for the page's rows only, after the LIMIT."""
    # A Func, not Count: an aggregate would make Django group the outer query by every column.
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
    return Subquery(counted.values("n"), output_field=IntegerField())


def _log_count() -> Subquery:
    return _count(StepLog.objects.filter(step_id=OuterRef("pk")))


def _log_link(step: StepExecution) -> SafeString:
    count = getattr(step, "log_count", None)
    text = "log" if count is None else f"log ({count} lines)"
    return changelist_link("steplog", f"step__id__exact={step.pk}", text)


class StepInline(ReadOnlyInline):
    """The steps of an execution, in workflow order, each with a link to its log."""

    model = StepExecution
    fields = (
        "position",
        "name",
        "step_type",
        "status",
        "attempt",
        "started_at",
        "duration",
        "error_message",
        "log",
    )
    readonly_fields = fields
    ordering = ["position", "id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StepExecution]:
        return super().get_queryset(request).annotate(log_count=_log_count())

    @admin.display(description="Duration")
    def duration(self, step: StepExecution) -> str:
        return format_duration(step.duration_seconds)

    @admin.display(description="Log")
    def log(self, step: StepExecution) -> SafeString:
        return _log_link(step)


@admin.register(WorkflowExecution)
class WorkflowExecutionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Executions with their steps inline."""

    list_display = [
        "id",
        "app_name",
        "workflow_name",
        "status",
        "outcome",
        "trigger",
        "triggered_by",
        "created_at",
        "started_at",
        "duration",
        "progress",
    ]
    # Changelists answer at millions of rows: filters on choices, teams and dates only (a filter on a
    # free-text column lists its distinct values: a scan), exact-match search on indexed columns, the
    # index's order, a count capped then estimated, and step progress computed per shown row.
    list_filter = ["status", "outcome", "team", "created_at", "started_at"]
    search_fields = ["=id", "=app_name", "=workflow_name"]
    list_select_related = ["triggered_by"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    inlines = [StepInline]
    actions = EXECUTION_ACTIONS
    readonly_fields = (
        "id",
        "app_name",
        "application",
        "team",
        "workflow_name",
        "status",
        "outcome",
        "error_message",
        "revision",
        "parent",
        "trigger",
        "triggered_by",
        "created_at",
        "started_at",
        "completed_at",
        "deadline",
        "duration",
        "log",
        "parameters",
        "variables",
        "outputs",
        "definition_yaml",
    )
    fields = readonly_fields

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return operator_actions(self, request, super().get_actions(request))

    @admin.display(description="Definition")
    def definition_yaml(self, obj: WorkflowExecution) -> SafeString:
        return yaml_block(obj.definition)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowExecution]:
        queryset = super().get_queryset(request)
        if request.resolver_match and (request.resolver_match.url_name or "").endswith("changelist"):
            steps = StepExecution.objects.filter(execution_id=OuterRef("pk"))
            queryset = queryset.defer(*_EXECUTION_DOCUMENTS).annotate(
                steps_total=_count(steps),
                steps_finished=_count(steps.filter(status__in=STEP_TERMINAL_STATUSES)),
            )
        return queryset

    @admin.display(description="Duration")
    def duration(self, obj: WorkflowExecution) -> str:
        return format_duration(obj.duration_seconds)

    @admin.display(description="Steps")
    def progress(self, obj: WorkflowExecution) -> str:
        return f"{getattr(obj, 'steps_finished', 0)}/{getattr(obj, 'steps_total', 0)}"

    @admin.display(description="Log")
    def log(self, obj: WorkflowExecution) -> SafeString:
        return changelist_link("steplog", f"execution__id__exact={obj.pk}", "all lines")


@admin.register(StepExecution)
class StepExecutionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Steps across executions, e.g. every failed terraform step this week."""

    list_display = [
        "__str__",
        "execution_link",
        "app",
        "name",
        "step_type",
        "status",
        "attempt",
        "started_at",
        "duration",
        "log",
    ]
    list_filter = ["status", "started_at"]
    search_fields = ["=execution__id"]
    # The primary key's order is the creation order and has an index; created_at has none.
    ordering = ["-id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = (
        "execution_link",
        "name",
        "step_type",
        "position",
        "status",
        "depends_on",
        "attempt",
        "max_attempts",
        "next_attempt_at",
        "lease_owner",
        "lease_expires_at",
        "started_at",
        "completed_at",
        "duration",
        "error_message",
        "skip_reason",
        "config",
        "outputs",
        "decided_by",
        "decided_at",
        "decision_comment",
        "log",
    )
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StepExecution]:
        return super().get_queryset(request).annotate(app=F("execution__app_name"), log_count=_log_count())

    @admin.display(description="Execution", ordering="execution_id")
    def execution_link(self, obj: StepExecution) -> SafeString:
        return admin_link("workflowexecution", obj.execution_id, obj.execution_id)

    @admin.display(description="App", ordering="app")
    def app(self, obj: StepExecution) -> str:
        return str(getattr(obj, "app", ""))

    @admin.display(description="Duration")
    def duration(self, obj: StepExecution) -> str:
        return format_duration(obj.duration_seconds)

    @admin.display(description="Log")
    def log(self, obj: StepExecution) -> SafeString:
        return _log_link(obj)


@admin.register(StepLog)
class StepLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Log lines in order; reached from a step (filtered by step) or an execution."""

    list_display = ["id", "execution_link", "step_name", "seq", "stream", "level", "text", "created_at"]
    list_filter = ["stream"]
    search_fields = ["=execution__id"]
    ordering = ["id"]
    list_per_page = 500
    # Counting a table of millions of lines on every page view is the slow part: skip it.
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = ("execution_link", "step", "seq", "stream", "level", "created_at", "text")
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StepLog]:
        return super().get_queryset(request).annotate(step_label=F("step__name"))

    @admin.display(description="Execution", ordering="execution_id")
    def execution_link(self, obj: StepLog) -> SafeString:
        return admin_link("workflowexecution", obj.execution_id, obj.execution_id)

    @admin.display(description="Step", ordering="step_label")
    def step_name(self, obj: StepLog) -> str:
        return str(getattr(obj, "step_label", None) or "—")

    @admin.display(description="Message")
    def text(self, obj: StepLog) -> SafeString:
        return format_html('<code style="white-space: pre-wrap">{}</code>', obj.message)
