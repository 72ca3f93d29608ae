"""Providers: what each one provisions (resource types, operations, outputs) and which workflows it ships."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.permissions import requires
from portal.queries import visible_resources
from workflows.providers.model import ProviderError
from workflows.providers.registry import current_registry


@require_GET
@requires("providers:read")
def provider_list(request: HttpRequest) -> HttpResponse:
    """Every loaded provider with its resource types, how many of the user's resources use each, and workflows."""
    in_use = dict(
        visible_resources(request.user)
        .values_list("resource_type")
        .annotate(n=Count("pk"))
        .order_by("resource_type")
    )
    context: dict[str, Any] = {"providers": [], "error": ""}
    try:
        registry = current_registry()
    except ProviderError as exc:
        context["error"] = str(exc)
        return render(request, "portal/providers.html", context, status=503)
    for provider in sorted(registry.providers.values(), key=lambda p: (not p.builtin, p.name)):
        types = [
            {"capability": provider.capability(name), "name": name, "in_use": in_use.get(name, 0)}
            for name in provider.claimed_types()
        ]
        workflows = sorted(provider.workflows.values(), key=lambda w: (w.category, w.operation, w.name))
        context["providers"].append({"provider": provider, "types": types, "workflows": workflows})
    # A broken or switched-off provider is disabled, not fatal (admin-config; PROVIDERS_STRICT): say
    # which and why, as /api/providers does, so a missing type is never a mystery.
    context["disabled"] = sorted(registry.disabled.items())
    context["replaced"] = sorted(
        (type_name, by, builtin) for type_name, (builtin, by) in registry.replaced.items()
    )
    context["unclaimed"] = sorted(
        (name, count) for name, count in in_use.items() if name not in registry.owners
    )
    return render(request, "portal/providers.html", context)
