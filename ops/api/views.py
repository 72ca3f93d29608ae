"""The Grafana dashboard, served from the packaged JSON so Grafana can import it from the API."""

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ops.monitoring import dashboard_path


class GrafanaDashboardView(APIView):
    """GET /api/grafana/dashboards/innominatus: the dashboard model for Grafana's import."""

    @extend_schema(
        summary="Grafana dashboard",
        description="The innominatus Grafana dashboard (panels over the /metrics series), ready to import.",
        responses={200: OpenApiTypes.OBJECT},
        tags=["monitoring"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(json.loads(dashboard_path().read_text(encoding="utf-8")))
