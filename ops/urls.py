"""Operations endpoints on the main port: /health, /ready, /livez and /metrics (unauthenticated)."""

from django.urls import path

from ops.health.views import HealthView, ReadyView, live_view
from ops.metrics.views import metrics_view

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("ready", ReadyView.as_view(), name="ready"),
    path("livez", live_view, name="livez"),
    path("metrics", metrics_view, name="metrics"),
]
