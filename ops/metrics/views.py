"""GET /metrics: Prometheus text exposition (no authentication; restrict it with a NetworkPolicy)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from ops.metrics.exposition import render


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Samples of this replica's processes plus the cluster-wide gauges from the database."""
    return HttpResponse(render(include_cluster=True), content_type=CONTENT_TYPE_LATEST)
