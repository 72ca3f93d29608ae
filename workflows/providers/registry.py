"""The provider registry: which provider serves each resource type, and which workflow runs each operation.

Built from the built-in catalogue (`workflows/providers/builtin/<name>/provider.yaml`) and the
directories listed under `providers:` in admin-config.yaml. Exactly one provider may claim a type
(aliases included). A reload is validated first, then announced through a generation counter in
the database, so every process of every replica rebuilds its registry when it sees a newer one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from workflows.providers.config import platform_config
from workflows.providers.loader import PROVIDER_FILE, load_provider, provider_file
from workflows.providers.model import (
    Provider,
    ProviderError,
    ProviderWorkflow,
    TypeCapability,
    UnknownResourceType,
)

logger = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
# After a failed rebuild (e.g. a ConfigMap not yet synced on this replica), wait before trying again.
RETRY_AFTER_FAILURE = 30.0


@dataclass(frozen=True)
class Route:
    """The provider, capability and workflow that perform one operation on one resource type."""

    provider: Provider
    capability: TypeCapability
    workflow: ProviderWorkflow


@dataclass
class ProviderRegistry:
    """Loaded providers indexed by the types they claim."""

    providers: dict[str, Provider] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)

    # Providers that did not load (tolerant mode) or were switched off, by name: the reason.
    disabled: dict[str, str] = field(default_factory=dict)
    # Types a configured provider took over from a built-in one: type -> (built-in, configured).
    replaced: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, providers: list[Provider], *, strict: bool = True) -> ProviderRegistry:
        """Index providers; ProviderError names both providers and the type when two claim one type.

        A configured provider claiming a built-in's type replaces the built-in for that type (logged),
        as the original let platform teams do. Two configured providers claiming one type conflict:
        strict raises, tolerant disables the later one with the reason.
        """
        registry = cls()
        conflicts: list[str] = []
        # Configured providers claim first, so that built-ins only get what nobody configured.
        for provider in sorted(providers, key=lambda p: p.builtin):
            if provider.name in registry.providers:
                first = registry.providers[provider.name]
                message = (
                    f"provider name {provider.name!r} is used twice: {first.source} and {provider.source}"
                )
                if strict:
                    raise ProviderError(message)
                registry.disable(f"{provider.name} ({provider.source})", message)
                continue
            clashes = []
            for type_name in provider.claimed_types():
                owner = registry.owners.get(type_name)
                if owner is not None and not provider.builtin:
                    clashes.append(
                        f"resource type {type_name!r} is claimed by both provider {owner!r} "
                        f"({registry.providers[owner].source}) and provider {provider.name!r} "
                        f"({provider.source})"
                    )
            if clashes and not strict:
                registry.disable(provider.name, "; ".join(clashes))
                continue
            conflicts.extend(clashes)
            registry.providers[provider.name] = provider
            for type_name in provider.claimed_types():
                owner = registry.owners.get(type_name)
                if owner is None:
                    registry.owners[type_name] = provider.name
                elif provider.builtin:
                    registry.replaced[type_name] = (provider.name, owner)
                    logger.info(
                        "provider %r replaces the built-in provider %r for resource type %r",
                        owner,
                        provider.name,
                        type_name,
                    )
        if conflicts:
            raise ProviderError("; ".join(conflicts))
        return registry

    def disable(self, name: str, reason: str) -> None:
        """Record a provider that is not used, and why (shown in /api/providers and as a metric)."""
        self.disabled[name] = reason
        logger.warning("provider %s disabled: %s", name, reason)

    def known_types(self) -> frozenset[str]:
        """Every resource type some provider claims (what Score ingest accepts)."""
        return frozenset(self.owners)

    def provider_for(self, type_name: str) -> Provider:
        """The provider claiming `type_name`; UnknownResourceType when none does."""
        owner = self.owners.get(type_name)
        if owner is None:
            known = ", ".join(sorted(self.owners)) or "none"
            raise UnknownResourceType(f"no provider claims resource type {type_name!r} (known: {known})")
        return self.providers[owner]

    def route(self, type_name: str, operation: str, resource_class: str = "") -> Route:
        """The workflow for `operation` on `type_name`; a resource class picks among tagged candidates."""
        provider = self.provider_for(type_name)
        capability = provider.capability(type_name)
        candidates = provider.workflows_for(type_name, operation)
        if not candidates:
            if operation == "delete":
                raise UnknownResourceType(
                    f"cannot deprovision {type_name!r}: provider {provider.name!r} has no delete workflow "
                    "for it (remove what it created by hand, then delete the resource again)"
                )
            raise UnknownResourceType(
                f"provider {provider.name!r} has no {operation} workflow for {type_name!r}"
            )
        chosen = candidates[0]
        if len(candidates) > 1:
            preferred = [wf for wf in candidates if resource_class and resource_class in wf.tags]
            preferred = preferred or [wf for wf in candidates if "default" in wf.tags]
            chosen = preferred[0] if preferred else candidates[0]
        return Route(provider=provider, capability=capability, workflow=chosen)

    def golden_path_workflows(self) -> list[tuple[Provider, ProviderWorkflow]]:
        """Provider workflows published as golden paths (category goldenpath)."""
        return [
            (provider, workflow)
            for provider in self.providers.values()
            for workflow in provider.workflows.values()
            if workflow.category == "goldenpath"
        ]


def provider_directories() -> list[tuple[Path, bool]]:
    """Built-in provider directories, then the ones admin-config.yaml lists (with their builtin flag)."""
    builtin = sorted(path.parent for path in BUILTIN_DIR.glob(f"*/{PROVIDER_FILE}"))
    return [(path, True) for path in builtin] + [(path, False) for path in platform_config().provider_dirs]


def strict_providers() -> bool:
    """Whether a broken provider stops the process (PROVIDERS_STRICT) instead of being disabled."""
    return bool(getattr(settings, "PROVIDERS_STRICT", False))


def build_registry(*, strict: bool | None = None) -> ProviderRegistry:
    """Load every provider afresh.

    Strict: ProviderError describes the first broken provider or every conflict (for the CI of
    provider repositories: `manage.py providers validate`). Tolerant (the server's default, as the
    original): a broken provider is disabled with the reason and the rest is served.
    """
    from workflows.goldenpaths.catalog import builtin_golden_paths

    strict = strict_providers() if strict is None else strict
    config = platform_config()
    providers = []
    failed: dict[str, str] = {}
    for directory, builtin in provider_directories():
        if builtin and directory.name in config.disabled_builtins:
            failed[directory.name] = "built-in provider disabled in admin-config.yaml (builtinProviders)"
            continue
        try:
            if provider_file(directory) is None:
                raise ProviderError(
                    f"provider directory {directory} (from admin-config.yaml) has no {PROVIDER_FILE}"
                )
            providers.append(load_provider(directory, builtin=builtin))
        except ProviderError as exc:
            if strict:
                raise
            failed[directory.name] = str(exc)
    for name in config.skipped_providers:
        failed[name] = "enabled: false in admin-config.yaml (skipped, as the original did)"
    for name, reason in config.unsupported_providers:
        if strict:
            raise ProviderError(f"provider {name!r}: {reason}")
        failed[name] = reason
    registry = ProviderRegistry.build(providers, strict=strict)
    for name, reason in failed.items():
        registry.disable(name, reason)
    # Golden paths share one catalogue: a provider's may not shadow a built-in one or another provider's.
    seen = dict.fromkeys(builtin_golden_paths(), "the built-in catalogue")
    for provider, workflow in registry.golden_path_workflows():
        if workflow.name in seen:
            message = (
                f"golden path {workflow.name!r} of provider {provider.name!r} "
                f"is already defined by {seen[workflow.name]}"
            )
            if strict:
                raise ProviderError(message)
            registry.disable(provider.name, message)
            registry.providers.pop(provider.name, None)
            for type_name in [t for t, owner in registry.owners.items() if owner == provider.name]:
                del registry.owners[type_name]
            continue
        seen[workflow.name] = f"provider {provider.name!r}"
    _record_disabled(registry)
    return registry


def _record_disabled(registry: ProviderRegistry) -> None:
    try:
        from ops.metrics.definitions import PROVIDERS_DISABLED
    except ImportError:  # pragma: no cover - the metrics package is part of every deployment
        return
    PROVIDERS_DISABLED.set(len(registry.disabled))


class _Cache:
    """This process's registry and the generation it was built for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registry: ProviderRegistry | None = None
        self.generation: int | None = None
        self.failed_generation: int | None = None
        self.failed_at = 0.0


_cache = _Cache()


def stored_generation() -> int | None:
    """The reload counter in the database (None when the database cannot answer, e.g. before migrate)."""
    from workflows.models import ProviderGeneration

    try:
        value = ProviderGeneration.objects.filter(pk=1).values_list("generation", flat=True).first()
    except DatabaseError:
        return None
    return int(value or 0)


def current_registry() -> ProviderRegistry:
    """This process's registry, rebuilt when another process announced a reload."""
    generation = stored_generation()
    with _cache.lock:
        stale = generation is not None and generation != _cache.generation
        if _cache.registry is None:
            _cache.registry = build_registry()
            _cache.generation = generation
        elif stale:
            waited = time.monotonic() - _cache.failed_at
            if _cache.failed_generation != generation or waited >= RETRY_AFTER_FAILURE:
                try:
                    _cache.registry = build_registry()
                    _cache.generation = generation
                except ProviderError:
                    # Keep serving the registry that worked; the reloading process already reported why.
                    logger.exception("providers could not be reloaded; keeping the previous set")
                    _cache.failed_generation, _cache.failed_at = generation, time.monotonic()
        return _cache.registry


def reload_providers(*, actor: str = "") -> tuple[ProviderRegistry, int]:
    """Rebuild the registry (raising ProviderError and changing nothing when it is broken), then
    bump the generation so every other process reloads too."""
    from workflows.models import ProviderGeneration

    registry = build_registry()
    with transaction.atomic():
        row, _ = ProviderGeneration.objects.select_for_update().get_or_create(pk=1)
        ProviderGeneration.objects.filter(pk=1).update(
            generation=F("generation") + 1, reloaded_by=actor[:200], updated_at=timezone.now()
        )
        generation = int(row.generation) + 1
    with _cache.lock:
        _cache.registry, _cache.generation = registry, generation
    logger.info(
        "providers reloaded", extra={"generation": generation, "providers": sorted(registry.providers)}
    )
    return registry, generation


def forget_registry() -> None:
    """Drop this process's registry so the next use loads it again (tests, configuration changes)."""
    with _cache.lock:
        _cache.registry, _cache.generation, _cache.failed_generation = None, None, None
