"""The canonical form of a Score spec: one spelling per meaning, hashed for deployment revisions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# Integral floats within this range are written as integers (as RFC 8785 does), so 8080.0 == 8080.
_EXACT_INTEGERS = 2**53


def _plain(value: Any) -> Any:
    """Deep copy with integral floats turned into ints."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_INTEGERS:
        return int(value)
    return value


def _as_mapping(entries: Any) -> Any:
    """The deprecated list form of files/volumes as the map form (target -> entry without target)."""
    if not isinstance(entries, list):
        return entries
    mapping = {}
    for entry in entries:
        item = dict(entry)
        mapping[item.pop("target")] = item
    return mapping


def normalise(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical copy of a validated spec: map forms for files and volumes, plain numbers."""
    result: dict[str, Any] = _plain(dict(spec))
    for container in result.get("containers", {}).values():
        for field in ("files", "volumes"):
            if field in container:
                container[field] = _as_mapping(container[field])
    return result


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 text rather than escapes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def full_document(spec: Mapping[str, Any], extensions: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The spec with its innominatus extension keys put back at the top level."""
    return {**spec, **(extensions or {})}


def content_hash(spec: Mapping[str, Any], extensions: Mapping[str, Any] | None = None) -> str:
    """SHA-256 (hex) of the canonical JSON of the spec together with its extensions."""
    text = canonical_json(full_document(spec, extensions))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
