"""API routes of the ops app (authenticated like the rest of /api)."""

from django.urls import path

from ops.api.views import GrafanaDashboardView

urlpatterns = [
    path("grafana/dashboards/innominatus", GrafanaDashboardView.as_view(), name="grafana-dashboard"),
]
