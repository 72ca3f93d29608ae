"""Providers: what is loaded and which types each serves, how many resources each holds, and reloads."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from innominatus.accounts.access import team_filter
from innominatus.problems import ProblemError
from workflows.api.errors import problems
from workflows.models import ResourceInstance
from workflows.providers.model import ProviderError
from workflows.providers.registry import ProviderRegistry, current_registry, reload_providers


class ProviderSerializer(serializers.Serializer):
    """A loaded provider with its capabilities and workflows."""

    name = serializers.CharField()
    version = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    builtin = serializers.BooleanField()
    directory = serializers.CharField(source="source", help_text="Where the provider was loaded from.")
    compatibility = serializers.DictField(child=serializers.CharField())
    resource_types = serializers.ListField(child=serializers.CharField())
    capabilities = serializers.ListField(child=serializers.DictField())
    workflows = serializers.ListField(child=serializers.DictField())
    enabled = serializers.BooleanField(
        default=True, help_text="False: the provider did not load or is switched off; see disabled_reason."
    )
    disabled_reason = serializers.CharField(default="")
    replaced_types = serializers.DictField(
        child=serializers.CharField(),
        default=dict,
        help_text="Types of this built-in provider that a configured provider serves instead.",
    )


class ProviderStatsSerializer(serializers.Serializer):
    """Resources per provider, type and state."""

    providers = serializers.DictField(child=serializers.DictField())
    total = serializers.IntegerField()


class ReloadSerializer(serializers.Serializer):
    """The outcome of a provider reload."""

    generation = serializers.IntegerField(help_text="Every process reloads when it sees this generation.")
    providers = serializers.ListField(child=serializers.CharField())
    resource_types = serializers.ListField(child=serializers.CharField())
    disabled = serializers.DictField(
        child=serializers.CharField(), help_text="Providers not served (tolerant loading), with the reason."
    )


class ProviderUnusable(ProblemError):
    """The providers on disk cannot be loaded; the previous set stays in use."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "provider_error"


def _entry(registry: ProviderRegistry, name: str) -> dict[str, Any]:
    replaced = {t: configured for t, (builtin, configured) in registry.replaced.items() if builtin == name}
    return {**registry.providers[name].to_dict(), "replaced_types": replaced}


def _disabled_entry(name: str, reason: str) -> dict[str, Any]:
    """A provider that is not served (tolerant loading, or switched off) and why."""
    return {
        "name": name,
        "version": "",
        "description": "",
        "category": "",
        "builtin": False,
        "source": "",
        "compatibility": {},
        "resource_types": [],
        "capabilities": [],
        "workflows": [],
        "enabled": False,
        "disabled_reason": reason,
    }


@extend_schema(tags=["providers"])
class ProviderViewSet(viewsets.GenericViewSet[Any]):
    """Providers loaded from the built-in catalogue and admin-config.yaml."""

    required_permissions = {"list": "providers:read", "retrieve": "providers:read", "stats": "providers:read"}
    lookup_field = "name"
    lookup_value_regex = r"[a-z0-9-]+"
    serializer_class = ProviderSerializer
    filter_backends: list[Any] = []

    @extend_schema(summary="List providers", responses={200: ProviderSerializer(many=True), **problems(403)})
    def list(self, request: Request) -> Response:
        registry = current_registry()
        providers = [_entry(registry, name) for name in sorted(registry.providers)]
        providers += [_disabled_entry(name, reason) for name, reason in sorted(registry.disabled.items())]
        page = self.paginate_queryset(providers)  # type: ignore[arg-type]  # pagination slices lists too
        if page is not None:
            return self.get_paginated_response(ProviderSerializer(page, many=True).data)
        return Response(ProviderSerializer(providers, many=True).data)

    @extend_schema(
        summary="Get a provider",
        parameters=[OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses={200: ProviderSerializer, **problems(403, 404)},
    )
    def retrieve(self, request: Request, name: str) -> Response:
        registry = current_registry()
        if name in registry.providers:
            return Response(ProviderSerializer(_entry(registry, name)).data)
        if name in registry.disabled:
            return Response(ProviderSerializer(_disabled_entry(name, registry.disabled[name])).data)
        raise ProblemError(f"no provider {name!r}", status_code=404, code="not_found")

    @extend_schema(summary="Resources per provider, type and state", responses={200: ProviderStatsSerializer})
    @action(detail=False, methods=["get"])
    def stats(self, request: Request) -> Response:
        rows = (
            ResourceInstance.objects.filter(team_filter(request.user, "application__team"))
            .order_by()
            .values("provider", "resource_type", "state")
            .annotate(count=Count("pk"))
        )
        result: dict[str, dict[str, Any]] = {
            name: {"total": 0, "types": {}} for name in current_registry().providers
        }
        total = 0
        for row in rows:
            entry = result.setdefault(row["provider"] or "(none)", {"total": 0, "types": {}})
            states = entry["types"].setdefault(row["resource_type"], {})
            states[row["state"]] = row["count"]
            entry["total"] += row["count"]
            total += row["count"]
        return Response(ProviderStatsSerializer({"providers": result, "total": total}).data)


class ProviderReloadView(APIView):
    """Load the providers again (validated first), and make every process of every replica follow."""

    required_permissions = {"POST": "admin:write"}

    @extend_schema(
        tags=["providers"],
        summary="Reload providers",
        request=None,
        responses={
            200: ReloadSerializer,
            422: OpenApiResponse(
                description="With PROVIDERS_STRICT: a provider is broken or two claim one type; nothing changed."
            ),
            **problems(403),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            registry, generation = reload_providers(actor=getattr(request.user, "username", ""))
        except (ProviderError, ImproperlyConfigured) as exc:
            raise ProviderUnusable(str(exc)) from None
        body = {
            "generation": generation,
            "providers": sorted(registry.providers),
            "resource_types": sorted(registry.known_types()),
            "disabled": dict(sorted(registry.disabled.items())),
        }
        return Response(ReloadSerializer(body).data)
