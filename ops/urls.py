"""Operations endpoints on the main port: /health, /ready and /metrics (unauthenticated)."""

from django.urls import path

from ops.health.views import HealthView, ReadyView
from ops.metrics.views import metrics_view

urlpatterns = [
    path("health", HealthView.as_view(), name="health"),
    path("ready", ReadyView.as_view(), name="ready"),
    path("metrics", metrics_view, name="metrics"),
]
