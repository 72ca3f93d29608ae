"""Resources of the user's teams' applications, filterable by application, type and state."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.forms import ResourceFilterForm
from portal.permissions import requires
from portal.queries import paginate, visible_resources


@require_GET
@requires("resources:read")
def resource_list(request: HttpRequest) -> HttpResponse:
    """A paginated table of resources with their state, provider and hints."""
    base = visible_resources(request.user)
    types = list(base.order_by("resource_type").values_list("resource_type", flat=True).distinct())
    form = ResourceFilterForm(request.GET or None, types=types)
    resources = base.defer("secret_outputs").order_by("app_name", "resource_name", "id")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data.get("app"):
            resources = resources.filter(app_name__icontains=data["app"])
        if data.get("type"):
            resources = resources.filter(resource_type=data["type"])
        if data.get("state"):
            resources = resources.filter(state=data["state"])
    return render(request, "portal/resources.html", {"form": form, "page": paginate(request, resources)})
