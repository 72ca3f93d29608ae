"""Safe parsing of a Score document (YAML or JSON) into plain JSON-compatible data with source lines.

YAML is read event by event from PyYAML's parser (libyaml when available) and assembled here,
not by PyYAML's composer/constructor: that is the one place where anchors and aliases (alias
bombs), duplicate keys, nesting depth, multiple documents and non-JSON tags can all be refused
before any object graph is built, identically for the C and the pure-Python parser. Plain
scalars are resolved with the YAML 1.2 core schema, as the Go Score tooling does, so ``yes``,
``on`` and ``2024-01-01`` stay strings and ``0600`` is not an octal number.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

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

from workflows.score.errors import Location, ScoreProblem, ScoreValidationError, sort_problems, to_pointer

MAX_DOCUMENT_BYTES = 512 * 1024
MAX_DEPTH = 64

# libyaml's parser when PyYAML was built with it; the pure-Python one otherwise.
PARSER_CLASS: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_JSON_TYPES = frozenset({"application/json", "text/json"})
_YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})

_TAG = "tag:yaml.org,2002:"
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NON_FINITE = re.compile(r"[-+]?(?:\.inf|\.Inf|\.INF)|\.nan|\.NaN|\.NAN")


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
    return _YamlBuilder(source, max_depth).build()


def _fail(code: str, message: str, *, location: Location = (), line: int | None = None) -> NoReturn:
    raise ScoreValidationError([ScoreProblem.at(location, code=code, message=message, line=line)])


def _decode(text: str | bytes, max_bytes: int) -> str:
    # The size check comes first, so an oversized body costs nothing to refuse.
    too_big = f"the document is larger than the limit of {max_bytes} bytes"
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            _fail("document-too-large", too_big)
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            _fail("invalid-encoding", f"the document is not valid UTF-8 (byte offset {exc.start})")
    elif len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        _fail("document-too-large", too_big)
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
        _fail(
            "json-syntax", f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", line=exc.lineno
        )
    except _NonFiniteNumber as exc:
        _fail("invalid-number", f"{exc} is not a valid JSON number")
    except RecursionError:
        _fail("too-deep", f"the document nests deeper than {max_depth} levels")
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        _fail("invalid-number", f"invalid JSON number: {exc}")
    _check_json_tree(data, max_depth)
    if not isinstance(data, dict):
        _fail("not-a-mapping", f"the document must be a mapping (object), not {_kind(data)}")
    return data


def _check_json_tree(root: Any, max_depth: int) -> None:
    problems: list[ScoreProblem] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        value, location = stack.pop()
        if isinstance(value, dict | list) and len(location) >= max_depth:
            _fail("too-deep", f"the document nests deeper than {max_depth} levels", location=location)
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


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) and not isinstance(value, bool) else "a boolean"


class _YamlBuilder:
    """Assembles JSON-compatible data from a YAML event stream, refusing unsafe constructs."""

    parser: yaml.SafeLoader | yaml.CSafeLoader

    def __init__(self, source: str, max_depth: int) -> None:
        self.source = source
        self.max_depth = max_depth
        self.lines: dict[str, int] = {"": 1}
        self.problems: list[ScoreProblem] = []

    def build(self) -> ParsedDocument:
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
            self.problems.append(ScoreProblem.at((), code="yaml-syntax", message=f"{what}{where}", line=line))
        except yaml.YAMLError as exc:  # reader errors: control characters and the like
            self.problems.append(ScoreProblem.at((), code="yaml-syntax", message=str(exc)))
        finally:
            if parser is not None:
                parser.dispose()
        if self.problems:
            raise ScoreValidationError(self.problems)
        if not isinstance(data, dict):
            _fail("not-a-mapping", f"the document must be a mapping, not {_kind(data)}", line=1)
        return ParsedDocument(data, self.lines)

    def _document(self) -> Any:
        parser = self.parser
        parser.get_event()  # stream start
        if parser.check_event(StreamEndEvent):
            _fail("not-a-mapping", "the document is empty", line=1)
        parser.get_event()  # document start
        data = self._node((), "", 1)
        parser.get_event()  # document end
        if parser.check_event(DocumentStartEvent):
            line = self._line(self._peek())
            _fail(
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
        _fail("yaml-anchor-forbidden", message, location=location, line=self._line(event))

    def _node(self, location: Location, pointer: str, depth: int) -> Any:
        event = self._next()
        self._refuse_reuse(event, location)
        if isinstance(event, ScalarEvent):
            return self._scalar(event, location)
        assert isinstance(event, CollectionStartEvent)
        if depth > self.max_depth:
            _fail(
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
                _fail(
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
        _fail(
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
            _fail("invalid-scalar", message, location=location, line=self._line(event))
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
        _fail(
            "invalid-number",
            f"the number '{value[:40]}' cannot be represented in JSON; quote it if it is meant as text",
            location=location,
            line=self._line(event),
        )
