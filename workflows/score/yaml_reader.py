"""Reads a YAML document event by event into JSON-compatible data, refusing unsafe constructs.

The document is assembled here from PyYAML's parser events (libyaml's parser when available),
not by PyYAML's composer and constructor: that is the one place where anchors and aliases
(alias bombs), duplicate keys, nesting depth, multiple documents and non-JSON tags can all be
refused before any object graph is built, identically for the C and the pure-Python parser.
Plain scalars are resolved with the YAML 1.2 core schema, as the Go Score tooling does, so
``yes``, ``on`` and ``2024-01-01`` stay strings and ``0600`` is not an octal number.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from workflows.score.errors import (
    Location,
    ScoreProblem,
    ScoreValidationError,
    describe,
    refuse,
    sort_problems,
    to_pointer,
)

# libyaml's parser when PyYAML was built with it; the pure-Python one otherwise.
PARSER_CLASS: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TAG = "tag:yaml.org,2002:"
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NON_FINITE = re.compile(r"[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN")


def read_yaml(source: str, max_depth: int) -> tuple[dict[str, Any], Mapping[str, int]]:
    """The top-level mapping of a single-document YAML text, and the line of each location."""
    return _YamlBuilder(source, max_depth).build()


class _YamlBuilder:
    """Assembles JSON-compatible data from a YAML event stream, refusing unsafe constructs."""

    parser: yaml.SafeLoader | yaml.CSafeLoader

    def __init__(self, source: str, max_depth: int) -> None:
        self.source = source
        self.max_depth = max_depth
        self.lines: dict[str, int] = {"": 1}
        self.problems: list[ScoreProblem] = []
        # The node being read, to name it when the parser refuses its text.
        self.reading: Location = ()

    def build(self) -> tuple[dict[str, Any], Mapping[str, int]]:
        data: Any = None
        parser = None
        try:
            # The pure-Python reader checks for control characters as soon as it is created.
            self.parser = parser = PARSER_CLASS(self.source)
            data = self._document()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            what = ", ".join(part for part in (exc.context, exc.problem) if part)
            where = f" (line {line}, column {mark.column + 1})" if mark else ""
            if "invalid Unicode" in (exc.problem or ""):
                # libyaml refuses a lone surrogate escape while reading the node: name that node.
                problem = ScoreProblem.at(
                    self.reading, code="invalid-unicode", message=f"{what}{where}", line=line
                )
            else:
                problem = ScoreProblem.at((), code="yaml-syntax", message=f"{what}{where}", line=line)
            self.problems.append(problem)
        except yaml.YAMLError as exc:  # reader errors: control characters and the like
            self.problems.append(ScoreProblem.at((), code="yaml-syntax", message=str(exc)))
        finally:
            if parser is not None:
                parser.dispose()
        if self.problems:
            raise ScoreValidationError(sort_problems(self.problems))
        if not isinstance(data, dict):
            refuse("not-a-mapping", f"the document must be a mapping, not {describe(data)}", line=1)
        return data, self.lines

    def _document(self) -> Any:
        parser = self.parser
        parser.get_event()  # stream start
        if parser.check_event(StreamEndEvent):
            refuse("not-a-mapping", "the document is empty", line=1)
        parser.get_event()  # document start
        data = self._node((), "", 1)
        parser.get_event()  # document end
        if parser.check_event(DocumentStartEvent):
            line = self._line(self._peek())
            refuse(
                "multiple-documents",
                "only one YAML document is allowed; remove the '---' separator",
                line=line,
            )
        return data

    def _next(self) -> Event:
        event = self.parser.get_event()
        assert event is not None  # the parser raises before it runs out of events
        return event

    def _peek(self) -> Event:
        event = self.parser.peek_event()
        assert event is not None
        return event

    @staticmethod
    def _line(event: Event) -> int:
        mark = event.start_mark
        return int(mark.line) + 1 if mark is not None else 1

    def _refuse_reuse(self, event: Event, location: Location) -> None:
        if isinstance(event, AliasEvent):
            message = f"YAML aliases (*{event.anchor}) are not allowed; write the value out in full"
        elif isinstance(event, NodeEvent) and event.anchor is not None:
            message = f"YAML anchors (&{event.anchor}) are not allowed; write the value out in full"
        else:
            return
        refuse("yaml-anchor-forbidden", message, location=location, line=self._line(event))

    def _node(self, location: Location, pointer: str, depth: int) -> Any:
        self.reading = location
        event = self._next()
        self._refuse_reuse(event, location)
        if isinstance(event, ScalarEvent):
            return self._scalar(event, location)
        assert isinstance(event, CollectionStartEvent)
        if depth > self.max_depth:
            refuse(
                "too-deep",
                f"the document nests deeper than {self.max_depth} levels",
                location=location,
                line=self._line(event),
            )
        if isinstance(event, MappingStartEvent):
            self._check_tag(event.tag, "map", location, event)
            return self._mapping(location, pointer, depth)
        assert isinstance(event, SequenceStartEvent)
        self._check_tag(event.tag, "seq", location, event)
        items: list[Any] = []
        while not self.parser.check_event(SequenceEndEvent):
            child = (*location, len(items))
            child_pointer = f"{pointer}/{len(items)}"
            self.lines[child_pointer] = self._line(self._peek())
            items.append(self._node(child, child_pointer, depth + 1))
        self.parser.get_event()
        return items

    def _mapping(self, location: Location, pointer: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while not self.parser.check_event(MappingEndEvent):
            key_event = self._next()
            self._refuse_reuse(key_event, location)
            if not isinstance(key_event, ScalarEvent):
                refuse(
                    "complex-key",
                    "mapping keys must be plain strings, not lists or mappings",
                    location=location,
                    line=self._line(key_event),
                )
            self._check_tag(key_event.tag, "str", location, key_event)
            key = str(key_event.value)
            child = (*location, key)
            child_pointer = pointer + to_pointer((key,))
            line = self._line(key_event)
            if key in result:
                first = self.lines.get(child_pointer)
                self.problems.append(
                    ScoreProblem.at(
                        child,
                        code="duplicate-key",
                        message=f"duplicate key '{key}' (first defined on line {first})",
                        line=line,
                    )
                )
                self._node(child, child_pointer, depth + 1)
                continue
            self.lines[child_pointer] = line
            result[key] = self._node(child, child_pointer, depth + 1)
        self.parser.get_event()
        return result

    def _check_tag(self, tag: str | None, allowed: str, location: Location, event: Event) -> None:
        if tag is None or tag == "!" or tag == _TAG + allowed:
            return
        refuse(
            "unsupported-tag",
            f"YAML tag '{tag.replace(_TAG, '!!')}' is not supported here; "
            "Score documents use plain JSON-compatible values",
            location=location,
            line=self._line(event),
        )

    def _scalar(self, event: ScalarEvent, location: Location) -> Any:
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            # implicit[0] is true only for an untagged plain (unquoted) scalar.
            return self._resolve_plain(value, event, location) if event.implicit[0] and tag is None else value
        kind = tag.removeprefix(_TAG) if tag.startswith(_TAG) else None
        if kind == "str":
            return value
        if kind in ("int", "float", "bool", "null"):
            resolved = self._resolve_plain(value, event, location)
            expected = {"int": int, "float": float, "bool": bool, "null": type(None)}[kind]
            if kind == "float" and type(resolved) is int:
                return float(resolved)
            if type(resolved) is expected:
                return resolved
            message = f"'{value}' is not a valid !!{kind}"
            refuse("invalid-scalar", message, location=location, line=self._line(event))
        self._check_tag(tag, "str", location, event)
        return value

    def _resolve_plain(self, value: str, event: ScalarEvent, location: Location) -> Any:
        if _NULL.fullmatch(value):
            return None
        if _TRUE.fullmatch(value):
            return True
        if _FALSE.fullmatch(value):
            return False
        number: float | None = None
        try:
            if _INT10.fullmatch(value):
                return int(value, 10)
            if _INT8.fullmatch(value):
                return int(value[2:], 8)
            if _INT16.fullmatch(value):
                return int(value[2:], 16)
            if _FLOAT.fullmatch(value):
                number = float(value)
            elif not _NON_FINITE.fullmatch(value):
                return value
        except ValueError:
            number = None  # more digits than Python converts
        if number is not None and math.isfinite(number):
            return number
        refuse(
            "invalid-number",
            f"the number '{value[:40]}' cannot be represented in JSON; quote it if it is meant as text",
            location=location,
            line=self._line(event),
        )
