"""System checks: every provider loads, no two providers claim one resource type, and the tenancy
sections of admin-config.yaml parse.

Runs with `manage.py check`, `migrate` (the chart's migration job) and `worker`. By default
(tolerant, as the original) a broken provider is a warning and is disabled; with
PROVIDERS_STRICT=true it stops a rollout before any process serves with it.
"""

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from workflows.providers.model import ProviderError
from workflows.providers.policies import tenancy_policy
from workflows.providers.registry import build_registry


@checks.register("providers")
def check_providers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Load every provider once; report what is broken, naming providers, files and types."""
    try:
        registry = build_registry()
    except (ProviderError, ImproperlyConfigured) as exc:
        return [checks.Error(str(exc), id="workflows.E001", hint="fix or remove the provider named above")]
    # Tolerant loading (the default): the rest is served; say what is not, and why.
    return [
        checks.Warning(
            f"provider {name} is disabled: {reason}",
            id="workflows.W001",
            hint="see GET /api/providers; `manage.py providers validate` checks strictly",
        )
        for name, reason in sorted(registry.disabled.items())
    ]


@checks.register("providers")
def check_tenancy_policy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Parse the sharedResources and policies sections of admin-config.yaml once at start-up."""
    try:
        tenancy_policy()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(str(exc), id="workflows.E002", hint="fix the admin-config.yaml entry named above")
        ]
    return []
