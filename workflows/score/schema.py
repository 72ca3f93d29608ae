"""Validation against the vendored official Score schema, with every error made precise and readable."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from workflows.score.errors import Location, ScoreProblem, describe

SCHEMA_RESOURCE = "schema/score-v1b1.json"
EXTENSION_KEYS = ("workflows", "environment")

_LABEL = "^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$"
_LABEL_TEXT = "2-63 lowercase letters, digits or '-', starting and ending with a letter or digit"
# What the schema's regular expressions mean, in words a spec author understands.
_PATTERN_TEXT = {
    _LABEL: f"must be {_LABEL_TEXT}",
    "^score\\.dev/v1b1$": "must be 'score.dev/v1b1'",
    "^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$": (
        "must be 2-63 letters, digits or '-', starting and ending with a letter or digit"
    ),
    "^[a-z0-9]+(?:-+[a-z0-9]+)*(?:\\.[a-z0-9]+(?:-+[a-z0-9]+)*)*$": (
        "must be '.'-separated labels of lowercase letters, digits and '-' (no leading or trailing '-')"
    ),
    "^(0\\.\\d+|[1-9]\\d*(\\.\\d+)?)(K|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$": (
        "must be a memory quantity such as 128M, 1Gi or 1.5Gi"
    ),
    "^\\d+(?:m|\\.\\d+)?$": "must be a CPU quantity such as 2, 0.5 or 250m",
    "^0?[0-7]{3}$": "must be an octal file mode such as 0600",
    "^[^=]+$": "must not contain '='",
    "^[A-Za-z0-9_-]+$": "must contain only letters, digits, '_' and '-'",
    (
        "^(([a-z0-9][a-z0-9-]{0,61}[a-z0-9])(\\.[a-z0-9][a-z0-9-]{0,61}[a-z0-9])*/)?"
        "[A-Za-z0-9][A-Za-z0-9._-]{0,61}[A-Za-z0-9]$"
    ): "must be an annotation key: an optional DNS prefix and '/', then letters, digits, '.', '_' or '-'",
}
_TYPE_TEXT = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "null": "null",
}
# The schema's way of saying "no 'target' key in the map form of files and volumes".
_TARGET_IN_MAP_FORM = {"type": "object", "additionalProperties": True, "required": ["target"]}


@functools.cache
def load_schema() -> dict[str, Any]:
    """The vendored Score schema, read once from package data."""
    text = resources.files("workflows.score").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def score_validator() -> Draft202012Validator:
    """The compiled validator, built and self-checked once per process."""
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_problems(document: Mapping[str, Any], lines: Mapping[str, int]) -> list[ScoreProblem]:
    """Every schema violation of ``document`` (extensions already removed), one problem per place."""
    found: dict[tuple[str, str], ScoreProblem] = {}
    for error in score_validator().iter_errors(document):
        if _pattern_says_it_all(error):
            continue
        for problem in _explain(error, lines):
            found.setdefault((problem.pointer, problem.code), problem)
    return sorted(found.values(), key=lambda p: (p.pointer, p.code))


def _pattern_says_it_all(error: ValidationError) -> bool:
    """A length error is noise when the same string also fails a pattern that we explain in words."""
    if error.validator not in ("minLength", "maxLength") or not isinstance(error.schema, dict):
        return False
    pattern = error.schema.get("pattern")
    return (
        pattern in _PATTERN_TEXT
        and isinstance(error.instance, str)
        and re.search(pattern, error.instance) is None
    )


def _at(location: Location, code: str, message: str, lines: Mapping[str, int]) -> ScoreProblem:
    return ScoreProblem.at(location, code=code, message=message, lines=lines)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _quote_all(names: list[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _required_only(subschemas: Any) -> list[str] | None:
    """The property names when every alternative is just ``{"required": [name]}``."""
    if not isinstance(subschemas, list):
        return None
    names = []
    for sub in subschemas:
        if not (isinstance(sub, dict) and set(sub) == {"required"} and len(sub["required"]) == 1):
            return None
        names.append(sub["required"][0])
    return names


def _explain(error: ValidationError, lines: Mapping[str, int]) -> Iterator[ScoreProblem]:
    location = list(error.absolute_path)
    keyword = error.validator
    instance = error.instance
    if "propertyNames" in error.relative_schema_path and isinstance(instance, str):
        text = _PATTERN_TEXT.get(str(error.validator_value), error.message)
        if keyword != "pattern":
            text = error.message.replace(repr(instance), "the name")
        yield _at([*location, instance], "invalid-name", f"invalid name '{instance}': {text}", lines)
    elif keyword == "required":
        required = error.validator_value if isinstance(error.validator_value, list) else []
        for name in required:
            if isinstance(instance, dict) and name not in instance:
                yield _at([*location, name], "required", f"'{name}' is required", lines)
    elif keyword == "additionalProperties":
        yield from _unknown_fields(error, location, lines)
    elif keyword == "type":
        expected = (
            error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        )
        wanted = " or ".join(_TYPE_TEXT.get(str(t), str(t)) for t in expected)
        yield _at(location, "wrong-type", f"expected {wanted}, got {describe(instance)}", lines)
    elif keyword in ("oneOf", "anyOf"):
        yield from _alternatives(error, location, lines)
    elif keyword == "not" and error.validator_value == _TARGET_IN_MAP_FORM:
        yield _at(
            [*location, "target"],
            "not-allowed",
            "'target' belongs to the deprecated list form; in the mapping form the key is the target path",
            lines,
        )
    else:
        yield _at(location, "invalid-value", _value_message(error), lines)


def _value_message(error: ValidationError) -> str:
    keyword, limit, value = error.validator, error.validator_value, error.instance
    if keyword == "pattern":
        return _PATTERN_TEXT.get(str(limit), f"must match the pattern {limit}") + f" (got {_short(value)})"
    if keyword == "minLength":
        return "must not be empty" if limit == 1 else f"is too short (at least {limit} characters)"
    if keyword == "maxLength":
        return f"is too long (at most {limit} characters)"
    if keyword == "minProperties":
        return "needs at least one entry" if limit == 1 else f"needs at least {limit} entries"
    if keyword == "enum":
        options = [str(v) for v in limit] if isinstance(limit, list) else [str(limit)]
        return f"must be one of {_quote_all(options)}, got {_short(value)}"
    if keyword == "minimum":
        return f"must be at least {limit}, got {value}"
    if keyword == "maximum":
        return f"must be at most {limit}, got {value}"
    return str(error.message)


def _unknown_fields(
    error: ValidationError, location: Location, lines: Mapping[str, int]
) -> Iterator[ScoreProblem]:
    known = sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
    allowed = ", ".join(known)
    if not location:
        allowed += ", plus the innominatus extensions " + ", ".join(EXTENSION_KEYS)
    instance = error.instance if isinstance(error.instance, dict) else {}
    for name in instance:
        if name not in known:
            yield _at(
                [*location, name], "unknown-field", f"unknown field '{name}' (allowed: {allowed})", lines
            )


def _alternatives(
    error: ValidationError, location: Location, lines: Mapping[str, int]
) -> Iterator[ScoreProblem]:
    """Explain a failed oneOf/anyOf through the alternative the author evidently meant."""
    names = _required_only(error.validator_value)
    instance = error.instance
    if names is not None and isinstance(instance, dict):
        present = [name for name in names if name in instance]
        if present:
            yield _at(location, "conflicting-fields", f"set only one of {_quote_all(present)}", lines)
        else:
            exactly = "exactly one" if error.validator == "oneOf" else "at least one"
            yield _at(location, "missing-field", f"needs {exactly} of {_quote_all(names)}", lines)
        return
    if not error.context:
        yield _at(location, "invalid-value", str(error.message), lines)
        return
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    here = list(error.absolute_path)
    # An alternative that fails on the value's own type was not the one the author meant.
    meant = [
        errors
        for errors in branches.values()
        if not any(e.validator == "type" and list(e.absolute_path) == here for e in errors)
    ]
    if len(meant) == 1:
        for sub in meant[0]:
            yield from _explain(sub, lines)
    elif not meant:
        types = [e.validator_value for errors in branches.values() for e in errors if e.validator == "type"]
        wanted = " or ".join(_TYPE_TEXT.get(str(t), str(t)) for t in types)
        yield _at(location, "wrong-type", f"expected {wanted}, got {describe(instance)}", lines)
    else:
        best = best_match(error.context)
        yield from _explain(best, lines) if best is not None else iter(())
