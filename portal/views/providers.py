"""Providers: what each provisions and which workflows it offers (built-in types until a registry exists)."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.permissions import requires
from portal.queries import visible_resources
from workflows.score import BUILTIN_RESOURCE_TYPES


@require_GET
@requires("providers:read")
def provider_list(request: HttpRequest) -> HttpResponse:
    """The resource types specs may declare, with how many of the user's resources use each."""
    in_use = dict(
        visible_resources(request.user)
        .values_list("resource_type")
        .annotate(n=Count("pk"))
        .order_by("resource_type")
    )
    types = [(name, in_use.get(name, 0)) for name in sorted(BUILTIN_RESOURCE_TYPES)]
    unknown = sorted(set(in_use) - BUILTIN_RESOURCE_TYPES)
    return render(
        request, "portal/providers.html", {"types": types, "unknown": [(t, in_use[t]) for t in unknown]}
    )
