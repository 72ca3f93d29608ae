"""The platform sections of admin-config.yaml: provider directories, deploy defaults, shared environment.

```yaml
providers:                       # extra provider directories (relative to this file), or
  - /etc/innominatus/providers/database-team
  - {name: storage-team, path: ./providers/storage-team}
deploy:
  baseDomain: apps.example.com   # dns resources: <name>.<baseDomain>
  namespacePrefix: ""            # namespace of an application: <prefix><app name>
  sharedNamespace: innominatus-shared
  ingressClassName: nginx        # route resources (empty: the cluster default)
  storageClassName: ""           # volumes and databases (empty: the cluster default)
  reservedNamespaces: [monitoring, "ingress-*"]  # never an application's namespace
environment:                     # values of `type: environment` resources
  LOG_LEVEL: info
```

A missing file means the defaults and the built-in providers only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class PlatformConfig:
    """Operator settings for provisioning and deploying."""

    provider_dirs: tuple[Path, ...] = ()
    base_domain: str = "apps.local"
    namespace_prefix: str = ""
    shared_namespace: str = "innominatus-shared"
    ingress_class: str = ""
    storage_class: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    # Namespace names (or `prefix*` patterns) no application may use, besides the built-in ones.
    reserved_namespaces: tuple[str, ...] = ()
    # Built-in providers switched off (`builtinProviders: {<name>: {enabled: false}}`).
    disabled_builtins: tuple[str, ...] = ()
    # Entries of `providers:` with `enabled: false`, by name or path: skipped (as the original did).
    skipped_providers: tuple[str, ...] = ()
    # The original's `gitea:` and `argocd:` sections (url, internalURL, username, password, token,
    # orgName): defaults and credentials of the `gitea-repo` and `argocd-app` steps.
    integrations: dict[str, dict[str, str]] = field(default_factory=dict)
    # Entries that cannot be loaded here (e.g. a git source), with the reason.
    unsupported_providers: tuple[tuple[str, str], ...] = ()


def _fail(message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"admin-config.yaml: {message}")


def _skipped(raw: Any) -> tuple[str, ...]:
    """`providers:` entries the original's `enabled: false` switches off (named by name or path)."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        str(entry.get("name") or entry.get("path") or entry.get("directory") or "?")
        for entry in raw
        if isinstance(entry, Mapping) and entry.get("enabled", True) is False
    )


def _unsupported(raw: Any) -> tuple[tuple[str, str], ...]:
    """`providers:` entries of a source type innominatus does not load, with the reason."""
    if not isinstance(raw, list):
        return ()
    return tuple(
        (
            str(entry.get("name") or entry.get("path") or "?"),
            f"provider source type {entry.get('type')!r} is not supported: only filesystem directories "
            "are; check the repository out (e.g. with a git-sync sidecar) and list its path",
        )
        for entry in raw
        if isinstance(entry, Mapping)
        and entry.get("enabled", True) is not False
        and entry.get("type", "filesystem") != "filesystem"
    )


def _disabled_builtins(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not all(
        isinstance(value, Mapping) and isinstance(value.get("enabled", True), bool) for value in raw.values()
    ):
        raise _fail("builtinProviders must map built-in provider names to {enabled: true|false}")
    return tuple(sorted(str(name) for name, value in raw.items() if value.get("enabled", True) is False))


def _provider_dirs(raw: Any, base: Path) -> tuple[Path, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail("providers must be a list of directories")
    found: list[Path] = []
    for index, entry in enumerate(raw):
        if isinstance(entry, Mapping) and entry.get("enabled", True) is False:
            continue  # the original skipped disabled providers; so does innominatus
        if isinstance(entry, Mapping) and entry.get("type", "filesystem") != "filesystem":
            continue  # reported by _unsupported: the registry lists it as disabled with the reason
        value = entry.get("path") or entry.get("directory") if isinstance(entry, Mapping) else entry
        if not isinstance(value, str) or not value:
            raise _fail(f"providers[{index}] must be a directory path or a mapping with `path`")
        path = Path(value)
        found.append(path if path.is_absolute() else (base / path))
    return tuple(found)


def _text(section: Mapping[str, Any], key: str, default: str, pattern: re.Pattern[str] | None = None) -> str:
    value = section.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _fail(f"deploy.{key} must be text")
    if value and pattern is not None and not pattern.match(value):
        raise _fail(f"deploy.{key} {value!r} is not a valid DNS name")
    return value


def _reserved(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(
        isinstance(item, str) and LABEL.match(item.removesuffix("*").rstrip("-") or "x") for item in raw
    ):
        raise _fail("deploy.reservedNamespaces must be a list of namespace names or `prefix*` patterns")
    return tuple(raw)


def parse(document: Any, base: Path) -> PlatformConfig:
    """The platform configuration of a parsed admin-config document."""
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise _fail("the document must be a mapping")
    deploy = document.get("deploy") or {}
    environment = document.get("environment") or {}
    if not isinstance(deploy, Mapping):
        raise _fail("deploy must be a mapping")
    if not isinstance(environment, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str | int | float | bool)
        for key, value in environment.items()
    ):
        raise _fail("environment must map names to plain values")
    return PlatformConfig(
        provider_dirs=_provider_dirs(document.get("providers"), base),
        base_domain=_text(deploy, "baseDomain", "apps.local", DNS_NAME),
        namespace_prefix=_text(deploy, "namespacePrefix", ""),
        shared_namespace=_text(deploy, "sharedNamespace", "innominatus-shared", LABEL),
        ingress_class=_text(deploy, "ingressClassName", ""),
        storage_class=_text(deploy, "storageClassName", ""),
        environment={key: str(value) for key, value in environment.items()},
        reserved_namespaces=_reserved(deploy.get("reservedNamespaces")),
        disabled_builtins=_disabled_builtins(document.get("builtinProviders")),
        skipped_providers=_skipped(document.get("providers")),
        unsupported_providers=_unsupported(document.get("providers")),
        integrations={
            name: {str(k): str(v) for k, v in section.items() if isinstance(v, str | int | bool)}
            for name in ("gitea", "argocd")
            if isinstance(section := document.get(name), Mapping)
        },
    )


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> PlatformConfig:
    file = Path(path)
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ImproperlyConfigured(f"{path}: cannot read admin configuration: {exc}") from exc
    return parse(document, file.parent)


def platform_config() -> PlatformConfig:
    """The current platform configuration (re-read when the file changes; defaults when it is absent)."""
    path = Path(str(settings.ADMIN_CONFIG))
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return PlatformConfig()
    return _load(str(path), mtime)
