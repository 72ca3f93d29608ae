"""Graph export: an execution's steps or an application's workloads and resources as JSON, DOT or SVG.

The layout is Graphviz's (`workflows.services.graphs`, shared with the portal). `?format=` picks the
representation; it is DRF's format override, so each format has a renderer and an unknown one is a
400 problem instead of DRF's bare 404.
"""

from __future__ import annotations

import json
from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from innominatus.accounts.access import team_filter
from innominatus.problems import ProblemError
from workflows.api.errors import problems
from workflows.models import Application, WorkflowExecution
from workflows.services import graphs


class _TextRenderer(BaseRenderer):
    """Passes the view's text through; problems (dicts) are JSON as with every other error."""

    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data).encode("utf-8")


class DotRenderer(_TextRenderer):
    media_type = "text/vnd.graphviz"
    format = "dot"


class SvgRenderer(_TextRenderer):
    media_type = "image/svg+xml"
    format = "svg"


class GraphNegotiation(DefaultContentNegotiation):
    """The representation is `?format=`'s; an unknown one is a 400 problem that names the allowed values."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: str | None = None) -> Any:
        wanted = format_suffix or request.query_params.get("format")
        if wanted and wanted not in graphs.FORMATS:
            raise ProblemError(
                f"format must be one of {', '.join(graphs.FORMATS)}",
                status_code=400,
                code="invalid",
                errors=[
                    {"path": "format", "message": f"unknown format {wanted!r}", "code": "invalid_choice"}
                ],
            )
        # `format` alone decides (json when absent): an Accept header never turns it into a 406.
        chosen = wanted or "json"
        renderer = next(r for r in renderers if r.format == chosen)
        return renderer, renderer.media_type


# Declared inline: "label" and "source" clash with Field attributes, and "from" is a Python keyword.
GraphSerializer = inline_serializer(
    "Graph",
    fields={
        "nodes": inline_serializer(
            "GraphNode",
            many=True,
            fields={
                "id": serializers.CharField(),
                "label": serializers.CharField(),
                "kind": serializers.CharField(help_text="Step type, or application/container/resource."),
                "status": serializers.CharField(),
            },
        ),
        "edges": inline_serializer(
            "GraphEdge",
            many=True,
            fields={
                "from": serializers.CharField(help_text="Id of the node the edge starts at."),
                "to": serializers.CharField(help_text="Id of the node the edge ends at."),
            },
        ),
    },
)


FORMAT = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=list(graphs.FORMATS), description="json (default), dot or svg."
)
GRAPH_RESPONSES = {
    (200, "application/json"): GraphSerializer,
    (200, "text/vnd.graphviz"): OpenApiResponse(OpenApiTypes.STR, description="Graphviz DOT text."),
    (200, "image/svg+xml"): OpenApiResponse(OpenApiTypes.STR, description="SVG laid out by Graphviz."),
    **problems(400, 403, 404),
}


class _GraphView(APIView):
    renderer_classes = [JSONRenderer, DotRenderer, SvgRenderer]
    content_negotiation_class = GraphNegotiation

    def respond(self, request: Request, graph: graphs.Graph) -> Response:
        fmt = request.accepted_renderer.format
        body, media_type = graphs.render(graph, fmt if fmt in graphs.FORMATS else "json")
        return Response(body, content_type=None if fmt == "json" else media_type)

    def handle_exception(self, exc: Exception) -> Response:
        # Problems are JSON whatever format was asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = "application/problem+json"
        return super().handle_exception(exc)


class ExecutionGraphView(_GraphView):
    """The step graph of one execution of the user's teams."""

    required_permissions = {"GET": "workflows:read"}

    @extend_schema(
        tags=["workflows"],
        summary="Step graph of an execution",
        parameters=[OpenApiParameter("id", OpenApiTypes.STR, OpenApiParameter.PATH), FORMAT],
        responses=GRAPH_RESPONSES,
    )
    def get(self, request: Request, id: str) -> Response:
        execution = get_object_or_404(WorkflowExecution.objects.filter(team_filter(request.user)), pk=id)
        return self.respond(request, graphs.execution_graph(execution))


class ApplicationGraphView(_GraphView):
    """An application of the user's teams: its workloads and the resources they use."""

    required_permissions = {"GET": "specs:read"}

    @extend_schema(
        tags=["applications"],
        summary="Workload and resource graph of an application",
        parameters=[OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH), FORMAT],
        responses=GRAPH_RESPONSES,
    )
    def get(self, request: Request, name: str) -> Response:
        queryset = Application.objects.filter(team_filter(request.user)).select_related("current_revision")
        application = get_object_or_404(queryset, name=name)
        return self.respond(request, graphs.application_graph(application))
