"""Root URL configuration: API, admin, schema, Swagger UI and the operations endpoints."""

import sys

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from innominatus.problems import DATABASE_UNAVAILABLE, json_problem, unavailable_response
from innominatus.schema_view import SchemaView
from workflows.admin.dashboard import operations_view, reload_providers_view, run_reaper_view

# The Django admin is the operator console of the design: branded, with an operations dashboard.
admin.site.site_header = "innominatus operator console"
admin.site.site_title = "innominatus operator console"
admin.site.index_title = "Operate the platform"

urlpatterns = [
    path("admin/operations/", admin.site.admin_view(operations_view), name="admin-operations"),
    path("admin/operations/reaper", admin.site.admin_view(run_reaper_view), name="admin-operations-reaper"),
    path(
        "admin/operations/providers",
        admin.site.admin_view(reload_providers_view),
        name="admin-operations-providers",
    ),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    # The split view serves its init script from a URL, so the Content-Security-Policy needs no inline script.
    path("swagger/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("workflows.api.urls")),
    path("api/", include("innominatus.accounts.api.urls")),
    path("", include("innominatus.accounts.urls")),
    path("", include("portal.urls")),
    path("api/", include("ops.api.urls")),
    # The MCP server for AI agents (Streamable HTTP); same authentication, throttles and audit as the API.
    path("", include("innominatus.mcp.urls")),
    # /health, /ready and /metrics: unauthenticated probes on the main port.
    path("", include("ops.urls")),
]


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown URLs answer problem+json under /api/ and Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return json_problem(request, 404, "No such endpoint.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Exception("not found"))


def server_error(request: HttpRequest) -> HttpResponse:
    """A fault answers problem+json under /api/ and Django's page elsewhere; a lost database 503."""
    # Django calls this inside its except block: a database error raised by middleware lands here.
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        return unavailable_response(request, error)
    if request.path.startswith("/api/"):
        return json_problem(request, 500, "An unexpected error occurred; it has been logged.")
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)


handler404 = api_not_found
handler500 = server_error
