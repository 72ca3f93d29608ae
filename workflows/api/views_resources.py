"""Resource instances with their state history, and the dashboard counts."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from innominatus.accounts.access import team_filter
from innominatus.pagination import KeysetPagination
from workflows.api.errors import problems
from workflows.api.filters import ResourceFilter
from workflows.api.serializers import ResourceDetailSerializer, ResourceSerializer, StatsSerializer
from workflows.choices import ResourceState, StepStatus
from workflows.models import (
    Application,
    ResourceInstance,
    ResourceStateTransition,
    StepExecution,
)
from workflows.services.counts import execution_counts


@extend_schema(tags=["resources"])
@extend_schema_view(
    list=extend_schema(summary="List resources", responses={200: ResourceSerializer, **problems(400, 403)}),
    retrieve=extend_schema(
        summary="Get a resource with its state transitions",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={200: ResourceDetailSerializer, **problems(403, 404)},
    ),
)
class ResourceViewSet(viewsets.ReadOnlyModelViewSet[ResourceInstance]):
    """Resources of the user's teams' applications; secret outputs never leave the database here."""

    queryset = ResourceInstance.objects.none()
    filterset_class = ResourceFilter
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["app_name", "resource_name", "resource_type", "state", "created_at", "updated_at"]
    ordering = ["app_name", "resource_name", "id"]
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[ResourceInstance]:
        queryset = ResourceInstance.objects.filter(team_filter(self.request.user, "application__team")).defer(
            "secret_outputs"
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("transitions", queryset=ResourceStateTransition.objects.order_by("created_at", "id"))
            )
        return queryset

    def get_serializer_class(self) -> type[ResourceSerializer]:
        return ResourceDetailSerializer if self.action == "retrieve" else ResourceSerializer


def _by(queryset: QuerySet[Any], field: str, choices: list[tuple[str, str]]) -> dict[str, int]:
    counts = dict.fromkeys((value for value, _ in choices), 0)
    for row in queryset.order_by().values(field).annotate(n=Count("pk")):
        counts[row[field]] = row["n"]
    return counts


class StatsView(APIView):
    """Counts of applications, executions, resources and active steps the user may see."""

    @extend_schema(
        tags=["stats"], summary="Dashboard counts", responses={200: StatsSerializer, **problems(403)}
    )
    def get(self, request: Request) -> Response:
        user = request.user
        executions = execution_counts(user)
        resources = _by(
            ResourceInstance.objects.filter(team_filter(user, "application__team")),
            "state",
            ResourceState.choices,
        )
        steps = _by(
            StepExecution.objects.filter(
                team_filter(user, "execution__team"), status__in=[StepStatus.RUNNING, StepStatus.WAITING]
            ),
            "status",
            StepStatus.choices,
        )
        body = {
            "applications": Application.objects.filter(team_filter(user)).count(),
            "executions": sum(executions.values()),
            "executions_by_status": executions,
            "resources": sum(resources.values()),
            "resources_by_state": resources,
            "steps_running": steps[StepStatus.RUNNING],
            "steps_waiting": steps[StepStatus.WAITING],
        }
        return Response(StatsSerializer(body).data)
