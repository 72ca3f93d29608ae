"""Golden paths: the catalogue, one path's parameter schema, and launching it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from workflows.api.engine_errors import workflow_problem
from workflows.api.errors import problems
from workflows.api.serializers import ExecutionSerializer
from workflows.engine.errors import WorkflowValidationError
from workflows.goldenpaths.catalog import GoldenPath, golden_paths
from workflows.services.goldenpaths import launch_golden_path

NAME_PARAMETER = OpenApiParameter(
    "name", OpenApiTypes.STR, OpenApiParameter.PATH, description="Golden path name."
)
TEAM_PARAMETER = OpenApiParameter(
    "team", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, description="Owning team of the run."
)


class GoldenPathSerializer(serializers.Serializer):
    """A golden path in the catalogue, with its parameter schema."""

    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    estimated_duration = serializers.CharField()
    workflow = serializers.CharField()
    steps = serializers.IntegerField()
    parameters = serializers.ListField(child=serializers.DictField())
    ttl_parameter = serializers.CharField(allow_null=True)


class ExecuteRequestSerializer(serializers.Serializer):
    """Parameters for a golden path run."""

    parameters = serializers.DictField(required=False, default=dict)
    team = serializers.SlugField(
        required=False,
        max_length=100,
        help_text="Owning team of the run when it names no existing application (required in several teams).",
    )


def _path_or_404(name: str) -> GoldenPath:
    try:
        return golden_paths()[name]
    except KeyError:
        raise NotFound(f"No golden path named {name!r}.") from None


@extend_schema(tags=["golden-paths"])
class GoldenPathViewSet(viewsets.ViewSet):
    """Named, parameterised workflows published by the platform team."""

    lookup_field = "name"
    lookup_value_regex = r"[^/]+"

    @extend_schema(summary="List golden paths", responses={200: GoldenPathSerializer(many=True)})
    def list(self, request: Request) -> Response:
        paths = sorted(golden_paths().values(), key=lambda path: path.name)
        return Response([path.to_summary() for path in paths])

    @extend_schema(
        summary="Get a golden path and its parameter schema",
        parameters=[NAME_PARAMETER],
        responses={200: GoldenPathSerializer, **problems(404)},
    )
    def retrieve(self, request: Request, name: str) -> Response:
        return Response(_path_or_404(name).to_summary())

    @extend_schema(
        summary="Run a golden path",
        description=(
            "Parameters are validated server-side; every problem names the parameter and a fix. "
            "The owning team comes from `team` in the body or the query string."
        ),
        parameters=[NAME_PARAMETER, TEAM_PARAMETER],
        request=ExecuteRequestSerializer,
        responses={201: ExecutionSerializer, **problems(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def execute(self, request: Request, name: str) -> Response:
        _path_or_404(name)
        data = request.data
        if isinstance(data, dict) and "team" not in data and request.query_params.get("team"):
            data = {**data, "team": request.query_params["team"]}
        body = ExecuteRequestSerializer(data=data)
        body.is_valid(raise_exception=True)
        parameters: dict[str, Any] = body.validated_data["parameters"]
        try:
            execution = launch_golden_path(
                name=name, parameters=parameters, user=request.user, team=body.validated_data.get("team")
            )
        except WorkflowValidationError as exc:
            raise workflow_problem(exc) from None
        return Response(ExecutionSerializer(execution).data, status=status.HTTP_201_CREATED)
