"""Validate manifests against the real Kubernetes schemas shipped with `kubernetes-validate`, and against
Pod Security baseline (workflows/score/pod_security.py)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from kubernetes_validate import utils as kv
from packaging.version import InvalidVersion, Version
from referencing import Registry, Resource

from workflows.score.pod_security import manifest_violations


@dataclass
class ManifestCheck:
    """Problems that make a manifest invalid, and warnings (such as a kind without a schema)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _minor(version: str) -> Version:
    match = re.match(r"^v?(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a Kubernetes version: {version!r}")
    return Version(f"{match.group(1)}.{match.group(2)}")


@functools.cache
def default_k8s_version() -> str:
    """The newest Kubernetes version whose schemas kubernetes-validate ships."""
    return str(kv.latest_version())


@functools.cache
def schema_version(k8s_version: str) -> str:
    """The newest shipped schema version not newer than `k8s_version` (e.g. "1.37.0")."""
    wanted = _minor(k8s_version)
    candidates = [v for v in kv.all_versions() if _minor(v) <= wanted]
    if not candidates:
        raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {k8s_version} or older")
    return str(candidates[-1])


@functools.cache
def _registry(version: str) -> Registry:
    definitions = kv.schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version
    )
    return Resource.from_contents(definitions) @ Registry()


def _schema_file(api_version: str, kind: str) -> str:
    # The library's naming: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1.
    short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{short}.json"


@functools.cache
def _validator(version: str, api_version: str, kind: str) -> Draft202012Validator | None:
    """A strict validator for the kind, or None when no shipped schema describes it."""
    path = f"kubernetes-json-schema/v{version}-local-strict/{_schema_file(api_version, kind)}"
    try:
        schema = kv.schema_contents(path, version)
    except (FileNotFoundError, kv.InvalidSchemaError):
        return None
    group, _, ver = api_version.rpartition("/")
    # File names drop the group's domain, so "Deployment apps.example.com/v1" would find apps/v1's
    # schema; only a schema declaring exactly this group/version/kind counts.
    declared = schema.get("x-kubernetes-group-version-kind") or []
    if not any(
        g.get("group", "") == group and g.get("version") == ver and g.get("kind") == kind for g in declared
    ):
        return None
    return Draft202012Validator(schema, registry=Resource.from_contents(schema) @ _registry(version))


def _where(error: ValidationError) -> str:
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


def _describe(obj: Mapping[str, Any]) -> str:
    name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), Mapping) else None
    return f"{obj.get('kind') or '?'}/{name or '?'}"


def check_manifest(
    obj: Any, k8s_version: str | None = None, *, require_schema: bool = False
) -> ManifestCheck:
    """Validate one manifest (strict: unknown fields are errors; Pod Security baseline holds). Kinds
    without a schema only warn unless `require_schema`."""
    result = ManifestCheck()
    if not isinstance(obj, Mapping):
        result.errors.append(f"manifest must be a mapping, not {type(obj).__name__}")
        return result
    api_version, kind, metadata = obj.get("apiVersion"), obj.get("kind"), obj.get("metadata")
    label = _describe(obj)
    if not isinstance(api_version, str) or not api_version:
        result.errors.append(f"{label}: apiVersion is required")
    if not isinstance(kind, str) or not kind:
        result.errors.append(f"{label}: kind is required")
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        result.errors.append(f"{label}: metadata.name is required")
    if result.errors:
        return result
    assert isinstance(api_version, str) and isinstance(kind, str)
    result.errors.extend(manifest_violations(obj))
    try:
        version = schema_version(k8s_version or default_k8s_version())
    except (ValueError, InvalidVersion) as exc:
        result.errors.append(str(exc))
        return result
    validator = _validator(version, api_version, kind)
    if validator is None:
        message = f"{label}: no schema for {kind} {api_version} in Kubernetes {version}; not validated"
        (result.errors if require_schema else result.warnings).append(message)
        return result
    problems = sorted(validator.iter_errors(dict(obj)), key=lambda e: [str(p) for p in e.absolute_path])
    result.errors.extend(f"{label}: {_where(e)}: {_message(kind, e)}" for e in problems)
    return result


def _message(kind: str, error: ValidationError) -> str:
    """The schema message, except that a Secret's values never appear in it."""
    path = list(error.absolute_path)
    if kind == "Secret" and path and path[0] in ("data", "stringData"):
        return f"invalid value (hidden): it must satisfy {error.validator} {error.validator_value!r}"
    return error.message


def validate_manifest(obj: Any, k8s_version: str | None = None, *, require_schema: bool = False) -> list[str]:
    """Every schema problem of one manifest, as `Kind/name: path: message` lines (empty when valid)."""
    return check_manifest(obj, k8s_version, require_schema=require_schema).errors
