"""Strict YAML reading: safe types only, no anchors/aliases, no duplicate keys, bounded size.

Dates stay text (they must survive a JSON snapshot) and mapping keys are turned into text
(`on:` in YAML 1.1 is the boolean true; it becomes "true").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import yaml
from yaml.nodes import MappingNode, Node

MAX_DOCUMENT_BYTES = 1024 * 1024
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class YamlProblem(ValueError):
    """The document is not acceptable YAML; `line` is 1-based when known."""

    def __init__(self, message: str, code: str, line: int | None = None) -> None:
        self.message = message
        self.code = code
        self.line = line
        super().__init__(f"{message} (line {line})" if line else message)


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


class _StrictLoader(yaml.SafeLoader):
    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = cast(Any, self).peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise YamlProblem("YAML aliases (*name) are not allowed", "yaml_alias", _line(event.start_mark))
        if getattr(event, "anchor", None):
            raise YamlProblem("YAML anchors (&name) are not allowed", "yaml_alias", _line(event.start_mark))
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise YamlProblem(
                    "mapping keys must be plain values", "yaml_syntax", key_node.start_mark.line + 1
                ) from None
            if duplicate:
                raise YamlProblem(
                    f"duplicate key {key!r}", "yaml_duplicate_key", key_node.start_mark.line + 1
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Copy the resolver table before editing it so the stock SafeLoader keeps resolving timestamps.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def to_jsonable(value: Any) -> Any:
    """Convert keys to text and refuse values JSON cannot hold (bytes, sets, NaN)."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            text = (
                ("true" if key else "false")
                if isinstance(key, bool)
                else ("null" if key is None else str(key))
            )
            out[text] = to_jsonable(item)
        return out
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise YamlProblem("NaN and infinite numbers are not allowed", "yaml_value")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise YamlProblem(f"values of type {type(value).__name__} are not allowed", "yaml_value")


def load_documents(source: str | bytes) -> list[Any]:
    """Parse every YAML document in `source`; raise YamlProblem for anything unsafe or malformed."""
    size = len(source.encode("utf-8")) if isinstance(source, str) else len(source)
    if size > MAX_DOCUMENT_BYTES:
        raise YamlProblem(f"document is larger than {MAX_DOCUMENT_BYTES} bytes", "too_large")
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlProblem(f"document is not UTF-8: {exc.reason}", "yaml_syntax") from exc
    try:
        documents = list(yaml.load_all(source, Loader=_StrictLoader))
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise YamlProblem(f"invalid YAML: {exc.problem or exc.context}", "yaml_syntax", line) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", "yaml_syntax") from exc
    except RecursionError:
        raise YamlProblem("document is nested too deeply", "yaml_syntax") from None
    try:
        return [to_jsonable(document) for document in documents if document is not None]
    except RecursionError:
        raise YamlProblem("document is nested too deeply", "yaml_syntax") from None
