"""API routes of the workflows app (no trailing slashes, as the original's API)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.api.views_applications import ApplicationViewSet, RevisionViewSet, SpecViewSet
from workflows.api.views_deployments import (
    ApplicationManifestsView,
    ApplicationRollbackView,
    ResourceExternalStateView,
)
from workflows.api.views_events import EventPollView, EventStreamView
from workflows.api.views_executions import ExecutionViewSet
from workflows.api.views_goldenpaths import GoldenPathViewSet
from workflows.api.views_graphs import ApplicationGraphView, ExecutionGraphView
from workflows.api.views_providers import ProviderReloadView, ProviderViewSet
from workflows.api.views_resources import ResourceViewSet, StatsView

router = SimpleRouter(trailing_slash=False)
router.register("applications", ApplicationViewSet, basename="application")
router.register(r"applications/(?P<name>[^/]+)/revisions", RevisionViewSet, basename="revision")
router.register("specs", SpecViewSet, basename="spec")
router.register("workflows", ExecutionViewSet, basename="execution")
router.register("resources", ResourceViewSet, basename="resource")
router.register("golden-paths", GoldenPathViewSet, basename="goldenpath")
router.register("providers", ProviderViewSet, basename="provider")

urlpatterns = [
    path(
        "applications/<str:name>/manifests", ApplicationManifestsView.as_view(), name="application-manifests"
    ),
    path("applications/<str:name>/graph", ApplicationGraphView.as_view(), name="application-graph"),
    path("workflows/<str:id>/graph", ExecutionGraphView.as_view(), name="execution-graph"),
    path("applications/<str:name>/rollback", ApplicationRollbackView.as_view(), name="application-rollback"),
    path(
        "resources/<int:pk>/external-state",
        ResourceExternalStateView.as_view(),
        name="resource-external-state",
    ),
    path("events", EventPollView.as_view(), name="events"),
    path("events/stream", EventStreamView.as_view(), name="event-stream"),
    path("admin/providers/reload", ProviderReloadView.as_view(), name="provider-reload"),
    *router.urls,
    path("stats", StatsView.as_view(), name="stats"),
]
