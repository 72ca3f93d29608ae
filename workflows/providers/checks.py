"""System check: every provider loads and no two providers claim one resource type.

Runs with `manage.py check`, `migrate` (the chart's migration job) and `worker`, so broken or
conflicting providers stop a rollout before any process serves with them.
"""

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from workflows.providers.model import ProviderError
from workflows.providers.registry import build_registry


@checks.register("providers")
def check_providers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Load every provider once; report what is broken, naming providers, files and types."""
    try:
        build_registry()
    except (ProviderError, ImproperlyConfigured) as exc:
        return [checks.Error(str(exc), id="workflows.E001", hint="fix or remove the provider named above")]
    return []
