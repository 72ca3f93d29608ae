"""Safe parsing of a Score document (YAML or JSON) into plain JSON-compatible data with source lines.

Limits are enforced before any parsing (size) and during it (depth, anchors, duplicates); see
yaml_reader for how YAML is read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from workflows.score.errors import ScoreProblem, ScoreValidationError, describe, refuse, sort_problems
from workflows.score.yaml_reader import read_yaml

MAX_DOCUMENT_BYTES = 512 * 1024
MAX_DEPTH = 64

_JSON_TYPES = frozenset({"application/json", "text/json"})
_YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})


@dataclass(frozen=True)
class ParsedDocument:
    """A parsed top-level mapping plus the 1-based source line of each location (YAML only)."""

    data: dict[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)


def parse_document(
    text: str | bytes,
    *,
    content_type: str | None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
) -> dict[str, Any]:
    """Parse a Score document; raises ScoreValidationError for anything unsafe or malformed."""
    return load_document(text, content_type=content_type, max_bytes=max_bytes, max_depth=max_depth).data


def load_document(
    text: str | bytes,
    *,
    content_type: str | None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
) -> ParsedDocument:
    """Like parse_document, but also returns the line map used to locate problems."""
    source = _decode(text, max_bytes)
    kind = _format_of(content_type)
    if kind == "json":
        return ParsedDocument(_parse_json(source, max_depth, fallback=False) or {})
    if kind is None and source.lstrip()[:1] == "{":
        # Sniffed JSON that is not JSON may still be a YAML flow mapping: the YAML reader decides.
        data = _parse_json(source, max_depth, fallback=True)
        if data is not None:
            return ParsedDocument(data)
    data, lines = read_yaml(source, max_depth)
    return ParsedDocument(data, lines)


def _decode(text: str | bytes, max_bytes: int) -> str:
    # The size check comes first, so an oversized body costs nothing to refuse.
    too_big = f"the document is larger than the limit of {max_bytes} bytes"
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            refuse("document-too-large", too_big)
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            refuse("invalid-encoding", f"the document is not valid UTF-8 (byte offset {exc.start})")
    elif len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        refuse("document-too-large", too_big)
    return text.removeprefix("\ufeff")


def _format_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _JSON_TYPES or media.endswith("+json"):
        return "json"
    if media in _YAML_TYPES or media.endswith("+yaml"):
        return "yaml"
    return None


class _DuplicateKeys(dict[str, Any]):
    """A JSON object that repeated keys; remembered so the walk can report them with a path."""

    duplicates: list[str]


class _NonFiniteNumber(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    marked = _DuplicateKeys(result)
    marked.duplicates = []
    for key, _ in pairs:
        if key in seen and key not in marked.duplicates:
            marked.duplicates.append(key)
        seen.add(key)
    return marked


def _json_constant(name: str) -> NoReturn:
    raise _NonFiniteNumber(name)


def _parse_json(source: str, max_depth: int, *, fallback: bool) -> dict[str, Any] | None:
    """Parse JSON; with ``fallback`` a syntax error returns None instead of being reported."""
    try:
        data = json.loads(source, object_pairs_hook=_json_object, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        if fallback:
            return None
        refuse(
            "json-syntax", f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", line=exc.lineno
        )
    except _NonFiniteNumber as exc:
        refuse("invalid-number", f"{exc} is not a valid JSON number")
    except RecursionError:
        refuse("too-deep", f"the document nests deeper than {max_depth} levels")
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        refuse("invalid-number", f"invalid JSON number: {exc}")
    _check_json_tree(data, max_depth)
    if not isinstance(data, dict):
        refuse("not-a-mapping", f"the document must be a mapping (object), not {describe(data)}")
    return data


def _check_json_tree(root: Any, max_depth: int) -> None:
    problems: list[ScoreProblem] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        value, location = stack.pop()
        if isinstance(value, dict | list) and len(location) >= max_depth:
            refuse("too-deep", f"the document nests deeper than {max_depth} levels", location=location)
        if isinstance(value, _DuplicateKeys):
            problems.extend(
                ScoreProblem.at((*location, key), code="duplicate-key", message=f"duplicate key '{key}'")
                for key in value.duplicates
            )
        if isinstance(value, dict):
            stack.extend((child, (*location, key)) for key, child in value.items())
        elif isinstance(value, list):
            stack.extend((child, (*location, index)) for index, child in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(
                ScoreProblem.at(location, code="invalid-number", message="number is too large to represent")
            )
    if problems:
        raise ScoreValidationError(sort_problems(problems))
