"""The tenancy sections of admin-config.yaml: platform-shared resources and the image allow-list.

```yaml
sharedResources:                 # resources every (or some) team may bind to, but not change
  - type: postgres
    class: default               # optional (default: default)
    id: shared-db
    params: {version: "16"}      # what it is provisioned with; specs may omit params or repeat them
    teams: [payments, search]    # optional: only these teams may bind (default: every team)
policies:
  allowedImages:                 # optional: container images must match one of these patterns
    - "registry.example.com/*"
    - "docker.io/library/nginx:*"  # `nginx:1.27` is matched as docker.io/library/nginx:1.27
```

A missing file or section means no platform-shared resources and any image.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_CLASS = "default"


@dataclass(frozen=True)
class PlatformResource:
    """A resource a platform admin shares across teams: its identity, params and who may bind."""

    type: str
    resource_class: str
    id: str
    params: dict[str, Any] = field(default_factory=dict)
    teams: frozenset[str] | None = None

    def allows(self, team: str) -> bool:
        """Whether applications of `team` may bind to this resource."""
        return self.teams is None or team in self.teams


@dataclass(frozen=True)
class TenancyPolicy:
    """Platform-shared resources by (type, class, id), and the image patterns (empty: any image)."""

    shared: dict[tuple[str, str, str], PlatformResource] = field(default_factory=dict)
    allowed_images: tuple[str, ...] = ()

    def platform_resource(
        self, resource_type: str, resource_class: str, resource_id: str
    ) -> PlatformResource | None:
        """The platform-shared resource with this identity, if any."""
        return self.shared.get((resource_type, resource_class or DEFAULT_CLASS, resource_id))


def _fail(message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"admin-config.yaml: {message}")


def _text(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if not isinstance(value, str) or not value:
        raise _fail(f"{where}.{key} must be non-empty text")
    return value


def _shared_resource(entry: Any, where: str) -> PlatformResource:
    if not isinstance(entry, Mapping):
        raise _fail(f"{where} must be a mapping with type and id")
    params = entry.get("params") or {}
    if not isinstance(params, Mapping):
        raise _fail(f"{where}.params must be a mapping")
    teams = entry.get("teams")
    if teams is not None and not (isinstance(teams, list) and all(isinstance(t, str) and t for t in teams)):
        raise _fail(f"{where}.teams must be a list of team names")
    return PlatformResource(
        type=_text(entry, "type", where),
        resource_class=_text(entry, "class", where, DEFAULT_CLASS),
        id=_text(entry, "id", where),
        params=dict(params),
        teams=frozenset(teams) if teams is not None else None,
    )


def parse(document: Any) -> TenancyPolicy:
    """The tenancy policy of a parsed admin-config document."""
    if not isinstance(document, Mapping):
        return TenancyPolicy()
    raw_shared = document.get("sharedResources") or []
    if not isinstance(raw_shared, list):
        raise _fail("sharedResources must be a list")
    shared: dict[tuple[str, str, str], PlatformResource] = {}
    for index, entry in enumerate(raw_shared):
        resource = _shared_resource(entry, f"sharedResources[{index}]")
        key = (resource.type, resource.resource_class, resource.id)
        if key in shared:
            raise _fail(
                f"sharedResources[{index}] repeats {resource.type}.{resource.resource_class}#{resource.id}"
            )
        shared[key] = resource
    policies = document.get("policies") or {}
    if not isinstance(policies, Mapping):
        raise _fail("policies must be a mapping")
    images = policies.get("allowedImages") or []
    if not isinstance(images, list) or not all(isinstance(item, str) and item for item in images):
        raise _fail("policies.allowedImages must be a list of image patterns")
    return TenancyPolicy(shared=shared, allowed_images=tuple(images))


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> TenancyPolicy:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ImproperlyConfigured(f"{path}: cannot read admin configuration: {exc}") from exc
    return parse(document)


def tenancy_policy() -> TenancyPolicy:
    """The current tenancy policy (re-read when admin-config.yaml changes; empty when it is absent)."""
    path = Path(str(settings.ADMIN_CONFIG))
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return TenancyPolicy()
    return _load(str(path), mtime)


def normalise_image(image: str) -> str:
    """The full reference a container runtime pulls for `image` (docker.io and library/ made explicit)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return image
    if not rest:
        return f"docker.io/library/{image}"
    return f"docker.io/{image}"


def image_allowed(image: str, patterns: tuple[str, ...]) -> bool:
    """Whether `image`'s full reference matches one of the shell-style `patterns` (any image when none)."""
    if not patterns:
        return True
    full = normalise_image(image)
    return any(fnmatch.fnmatchcase(full, pattern) for pattern in patterns)
