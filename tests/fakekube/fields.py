"""Pure helpers of the fake API server: merge patches, server-side apply field sets, label selectors."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

Path = tuple[str, ...]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (strategic merge is treated the same: lists are replaced)."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def leaf_paths(obj: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every leaf of a configuration with its value; lists count as one atomic leaf."""
    if isinstance(obj, Mapping) and obj:
        for key, value in obj.items():
            yield from leaf_paths(value, (*prefix, str(key)))
    elif prefix:
        yield prefix, obj


# Fields the server owns; an apply never claims or removes them.
SERVER_FIELDS: frozenset[Path] = frozenset(
    {
        ("metadata", "uid"),
        ("metadata", "resourceVersion"),
        ("metadata", "generation"),
        ("metadata", "creationTimestamp"),
        ("metadata", "managedFields"),
        ("apiVersion",),
        ("kind",),
        ("metadata", "name"),
        ("metadata", "namespace"),
    }
)


def owned_paths(applied: Mapping[str, Any]) -> set[Path]:
    return {path for path, _ in leaf_paths(applied) if path not in SERVER_FIELDS and path[0] != "status"}


def _remove_path(obj: dict[str, Any], path: Path) -> None:
    node: Any = obj
    parents: list[tuple[dict[str, Any], str]] = []
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return
        parents.append((node, key))
        node = node[key]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    # Drop maps that the removal left empty, as the real server prunes them.
    for parent, key in reversed(parents):
        if parent[key] == {}:
            del parent[key]


def deep_merge(base: Any, overlay: Any) -> Any:
    """Overlay maps onto maps recursively; any other value (lists included) replaces."""
    if isinstance(base, Mapping) and isinstance(overlay, Mapping):
        result = dict(base)
        for key, value in overlay.items():
            result[key] = deep_merge(result.get(key), value)
        return result
    return copy.deepcopy(overlay)


def apply_config(
    existing: dict[str, Any], previous: Mapping[str, Any], applied: Mapping[str, Any]
) -> dict[str, Any]:
    """The object after one manager re-applies: fields it applied before and dropped now are removed."""
    result = copy.deepcopy(existing)
    for path in owned_paths(previous) - owned_paths(applied):
        _remove_path(result, path)
    merged = deep_merge(result, applied)
    assert isinstance(merged, dict)
    return merged


def conflicts(applied: Mapping[str, Any], others: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Path]]:
    """(manager, path) pairs where another manager applied a different value to the same field."""
    mine = {path: value for path, value in leaf_paths(applied) if path in owned_paths(applied)}
    found: list[tuple[str, Path]] = []
    for manager, config in others.items():
        for path, value in leaf_paths(config):
            if path in mine and mine[path] != value:
                found.append((manager, path))
    return found


def fields_v1(applied: Mapping[str, Any]) -> dict[str, Any]:
    """managedFields' FieldsV1 set ("f:spec": {"f:replicas": {}}) of the fields a manager owns."""
    tree: dict[str, Any] = {}
    for path in sorted(owned_paths(applied)):
        node = tree
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return tree


_REQUIREMENT = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9._-]*)|\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\))?\s*$"
)


def _split_selector(selector: str) -> list[str]:
    """Split on commas that are not inside a set's parentheses."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def parse_selector(selector: str) -> list[tuple[str, str, frozenset[str]]]:
    """Label selector requirements as (operator, key, values); raises ValueError when malformed."""
    requirements = []
    for part in _split_selector(selector):
        match = _REQUIREMENT.match(part)
        if not match:
            raise ValueError(f"unable to parse requirement: {part.strip()!r}")
        key = match["key"]
        if match["neg"]:
            requirements.append(("!", key, frozenset()))
        elif match["op"]:
            requirements.append(("!=" if match["op"] == "!=" else "=", key, frozenset({match["value"]})))
        elif match["setop"]:
            values = frozenset(v.strip() for v in match["values"].split(",") if v.strip())
            requirements.append((match["setop"], key, values))
        else:
            requirements.append(("exists", key, frozenset()))
    return requirements


def selector_matches(requirements: list[tuple[str, str, frozenset[str]]], labels: Mapping[str, str]) -> bool:
    for op, key, values in requirements:
        present = key in labels
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
        if op in ("=", "in") and (not present or labels[key] not in values):
            return False
        if op in ("!=", "notin") and present and labels[key] in values:
            return False
    return True
