"""Workflow executions: list, detail with steps, and incremental log tails."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from innominatus.accounts.access import team_filter
from innominatus.pagination import KeysetPagination
from workflows.api.errors import problems
from workflows.api.execution_actions import ExecutionActionsMixin
from workflows.api.filters import ExecutionFilter
from workflows.api.serializers import (
    ExecutionDetailSerializer,
    ExecutionSerializer,
    LogPageSerializer,
    LogQuerySerializer,
)
from workflows.choices import EXECUTION_TERMINAL_STATUSES
from workflows.models import StepExecution, StepLog, WorkflowExecution
from workflows.services import progress

ID_PARAMETER = OpenApiParameter(
    "id", OpenApiTypes.STR, OpenApiParameter.PATH, description="Execution id (wf-…)."
)
_LOG_FIELDS = ("id", "seq", "step__name", "stream", "level", "message", "created_at")


@extend_schema(tags=["workflows"])
@extend_schema_view(
    list=extend_schema(
        summary="List workflow executions", responses={200: ExecutionSerializer, **problems(400, 403)}
    ),
    retrieve=extend_schema(
        summary="Get an execution with its steps",
        parameters=[ID_PARAMETER],
        responses={200: ExecutionDetailSerializer, **problems(403, 404)},
    ),
)
class ExecutionViewSet(ExecutionActionsMixin, viewsets.ReadOnlyModelViewSet[WorkflowExecution]):
    """Workflow executions of the user's teams, newest first; state changes are actions on one execution."""

    queryset = WorkflowExecution.objects.none()
    lookup_field = "id"
    lookup_value_regex = r"[^/]+"
    filterset_class = ExecutionFilter
    ordering_fields = ["created_at", "started_at", "completed_at", "status", "app_name", "workflow_name"]
    ordering = ["-created_at", "-id"]

    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[WorkflowExecution]:
        queryset = WorkflowExecution.objects.filter(team_filter(self.request.user))
        if self.action not in ("list", "retrieve"):
            return queryset
        # Only columns of the execution and its user: the page is chosen on indexed columns alone and
        # decorated afterwards (workflows.services.progress), so no page costs a scan of all steps.
        queryset = queryset.select_related("triggered_by").defer("definition", "variables")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("steps", queryset=StepExecution.objects.order_by("position", "id"))
            )
        return queryset

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        return progress.decorate(page) if page is not None else None

    def get_object(self) -> WorkflowExecution:
        execution = super().get_object()
        if self.action == "retrieve":
            progress.decorate([execution])
        return execution

    def get_serializer_class(self) -> type[ExecutionSerializer]:
        return ExecutionDetailSerializer if self.action == "retrieve" else ExecutionSerializer

    @extend_schema(
        summary="Tail an execution's log",
        description=(
            "Lines in order. Poll with `after=<next_after>` to receive only new lines; "
            "`complete` is true once the execution has ended and no line is left."
        ),
        parameters=[ID_PARAMETER, LogQuerySerializer],
        responses={200: LogPageSerializer, **problems(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def logs(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A plain dict, not the QueryDict: DRF reads an empty form value as "absent", the schema does not.
        query = LogQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        after: int = query.validated_data["after"]
        limit: int = query.validated_data["limit"]
        execution = self.get_object()
        # Read the status before the lines: every line written before the end is then in this answer.
        ended = execution.status in EXECUTION_TERMINAL_STATUSES
        lines = StepLog.objects.filter(execution=execution, id__gt=after)
        step_name = query.validated_data.get("step")
        if step_name:
            step = execution.steps.filter(name=step_name).only("pk").first()
            if step is None:
                raise NotFound(f"Execution {execution.id} has no step named {step_name!r}.")
            lines = lines.filter(step=step)
        rows = list(lines.order_by("id").values(*_LOG_FIELDS)[:limit])
        body = {
            "lines": [{**row, "step": row.pop("step__name")} for row in rows],
            "next_after": rows[-1]["id"] if rows else after,
            "complete": ended and len(rows) < limit,
        }
        return Response(LogPageSerializer(body).data)
