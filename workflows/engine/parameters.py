"""Parameter specs (list or mapping form) and validation/coercion of the values given for a run.

Types: string, int, number, bool, duration, enum, list, map (aliases: integer, float, boolean,
array, object, …). Strings from forms and CLIs are coerced ("3" -> 3, "yes" -> True; a list may
be JSON or comma-separated, a map JSON). Durations are validated and kept as text ("10m") so that
templates show what the user wrote. `min`/`max` bound the value for int/number, the length for
string, the item count for list and the seconds for duration (where they may be written "1h").
An empty string for a non-string type counts as "not given" (blank form fields).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .durations import format_duration, parse_duration
from .errors import ParameterError, Problem, UnsafePatternError, did_you_mean
from .legacy import render_defaults
from .model import PARAMETER_TYPE_ALIASES, PARAMETER_TYPES, ParameterSpec
from .safe_regex import MAX_INPUT_LENGTH, compile_safe

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
_SPEC_KEYS = {
    "name",
    "type",
    "description",
    "default",
    "required",
    "pattern",
    "min",
    "max",
    "minimum",
    "maximum",
    "allowed_values",
    "allowedValues",
    "enum",
}
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}
_INT_TEXT = re.compile(r"[+-]?\d{1,30}")
_HINTS = {
    "int": "use a whole number such as 3",
    "number": "use a number such as 2.5",
    "bool": "use true or false",
    "duration": "use a duration such as 30s, 5m or 1h30m",
    "list": 'use a JSON list such as ["a", "b"] or comma-separated text',
    "map": 'use a JSON object such as {"key": "value"}',
    "string": "use text",
    "enum": "use one of the allowed values",
}


class _Invalid(Exception):
    def __init__(self, code: str, message: str, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.suggestion = suggestion


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _coerce(kind: str, value: Any) -> Any:
    """Convert `value` to `kind` or raise _Invalid (constraints are checked separately)."""
    bad = _Invalid("parameter_type", f"{_show(value)} is not a valid {kind}", _HINTS.get(kind))
    if kind in ("string", "enum"):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, str):
            return value
        raise bad
    if isinstance(value, bool):
        if kind == "bool":
            return value
        raise bad
    if kind == "int":
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
            return int(value.strip())
        raise bad
    if kind == "number":
        if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
            return int(value.strip())
        try:
            number = float(value) if isinstance(value, str | int | float) else math.nan
        except ValueError:
            raise bad from None
        if not math.isfinite(number):
            raise bad
        return value if isinstance(value, int | float) else number
    if kind == "bool":
        text = str(value).strip().lower() if isinstance(value, str | int) else None
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise bad
    if kind == "duration":
        try:
            parse_duration(value)
        except ValueError:
            raise bad from None
        return value.strip() if isinstance(value, str) else format_duration(float(value))
    if kind == "list":
        if isinstance(value, list | tuple):
            return list(value)
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                parsed = _json(text, bad)
                if isinstance(parsed, list):
                    return parsed
                raise bad
            return [item.strip() for item in text.split(",") if item.strip()]
        raise bad
    if kind == "map":
        parsed = _json(value.strip(), bad) if isinstance(value, str) else value
        if isinstance(parsed, dict):
            return dict(parsed)
        raise bad
    raise _Invalid("parameter_type", f"unknown parameter type {kind!r}")


def _json(text: str, bad: _Invalid) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise bad from None


def _measure(spec: ParameterSpec, value: Any) -> tuple[float, str] | None:
    """The quantity min/max apply to, with a word for messages."""
    if spec.type in ("int", "number"):
        return float(value), "value"
    if spec.type in ("string", "enum"):
        return float(len(value)), "length"
    if spec.type == "list":
        return float(len(value)), "number of items"
    if spec.type == "duration":
        return parse_duration(value), "duration in seconds"
    return None


def _check(spec: ParameterSpec, value: Any) -> Any:
    """Coerce and check every constraint of `spec`; raise _Invalid for the first violation."""
    value = _coerce(spec.type, value)
    if isinstance(value, str) and len(value) > MAX_INPUT_LENGTH:
        raise _Invalid("parameter_length", f"value is longer than {MAX_INPUT_LENGTH} characters")
    if spec.allowed_values is not None and value not in spec.allowed_values:
        allowed = ", ".join(str(item) for item in spec.allowed_values)
        close = did_you_mean(str(value), [str(item) for item in spec.allowed_values])
        raise _Invalid(
            "parameter_allowed_values",
            f"{_show(value)} is not one of the allowed values ({allowed})",
            close or f"allowed values: {allowed}",
        )
    if (
        spec.pattern is not None
        and isinstance(value, str)
        and compile_safe(spec.pattern).search(value) is None
    ):
        raise _Invalid(
            "parameter_pattern",
            f"{_show(value)} does not match the pattern {spec.pattern!r}",
            spec.description or None,
        )
    measured = _measure(spec, value)
    if measured is not None:
        amount, word = measured
        if spec.minimum is not None and amount < spec.minimum:
            raise _Invalid("parameter_min", f"{word} of {_show(value)} is below the minimum {spec.minimum:g}")
        if spec.maximum is not None and amount > spec.maximum:
            raise _Invalid("parameter_max", f"{word} of {_show(value)} is above the maximum {spec.maximum:g}")
    return value


def _missing(value: Any, spec: ParameterSpec) -> bool:
    # A blank form field means "not given", except for an optional string where "" is a value.
    return value is None or (value == "" and (spec.type != "string" or spec.required))


def validate_parameters(specs: Sequence[ParameterSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """Coerce `values` against `specs`, fill defaults; raise ParameterError listing every problem."""
    problems: list[Problem] = []
    names = [spec.name for spec in specs]
    for key in values:
        if key not in names:
            hint = did_you_mean(str(key), names) or (
                f"declared parameters: {', '.join(names)}" if names else "this workflow takes no parameters"
            )
            problems.append(
                Problem(f"parameters.{key}", f"unknown parameter '{key}'", "parameter_unknown", hint)
            )
    result: dict[str, Any] = {}
    for spec in specs:
        path = f"parameters.{spec.name}"
        given = values.get(spec.name)
        if _missing(given, spec):
            if spec.default is not None:
                result[spec.name] = copy.deepcopy(spec.default)
            elif spec.required:
                hint = f"set {spec.name} ({spec.type})" + (
                    f": {spec.description}" if spec.description else ""
                )
                problems.append(
                    Problem(path, f"parameter '{spec.name}' is required", "parameter_required", hint)
                )
            else:
                result[spec.name] = None
            continue
        try:
            result[spec.name] = _check(spec, given)
        except _Invalid as exc:
            problems.append(
                Problem(path, f"parameter '{spec.name}': {exc.message}", exc.code, exc.suggestion)
            )
        except UnsafePatternError as exc:
            message = f"parameter '{spec.name}': unusable pattern: {exc}"
            problems.append(Problem(path, message, "parameter_pattern"))
    if problems:
        raise ParameterError(problems)
    return render_defaults(specs, values, result)


def _bound(raw: Any, kind: str, path: str, problems: list[Problem]) -> float | None:
    if raw is None:
        return None
    try:
        if kind == "duration":
            return parse_duration(raw)
        if isinstance(raw, bool):
            raise ValueError
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError
        return number
    except (TypeError, ValueError):
        hint = "use a duration such as 1h" if kind == "duration" else "use a number"
        problems.append(Problem(path, f"{_show(raw)} is not a valid bound", "invalid_parameter_spec", hint))
        return None


def _parse_one(name: Any, raw: Mapping[str, Any], path: str, problems: list[Problem]) -> ParameterSpec | None:
    start = len(problems)
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        problems.append(
            Problem(
                path,
                f"parameter name {_show(name)} is invalid",
                "invalid_parameter_spec",
                "use letters, digits, _ or -",
            )
        )
        return None
    for key in raw:
        if key not in _SPEC_KEYS:
            problems.append(
                Problem(
                    f"{path}.{key}",
                    f"unknown parameter field '{key}'",
                    "unknown_field",
                    did_you_mean(str(key), _SPEC_KEYS),
                )
            )
    allowed_raw = next(
        (raw[k] for k in ("allowed_values", "allowedValues", "enum") if raw.get(k) is not None), None
    )
    kind = str(raw.get("type") or ("enum" if allowed_raw is not None else "string")).strip().lower()
    kind = PARAMETER_TYPE_ALIASES.get(kind, kind)
    if kind not in PARAMETER_TYPES:
        hint = did_you_mean(kind, [*PARAMETER_TYPES, *PARAMETER_TYPE_ALIASES]) or "types: " + ", ".join(
            sorted(PARAMETER_TYPES)
        )
        problems.append(
            Problem(f"{path}.type", f"unknown parameter type '{kind}'", "invalid_parameter_spec", hint)
        )
        return ParameterSpec(name=name)
    allowed: tuple[Any, ...] | None = None
    if allowed_raw is not None:
        if not isinstance(allowed_raw, list) or not allowed_raw:
            problems.append(
                Problem(
                    f"{path}.allowed_values",
                    "allowed_values must be a non-empty list",
                    "invalid_parameter_spec",
                )
            )
        else:
            try:
                allowed = tuple(_coerce(kind, item) for item in allowed_raw)
            except _Invalid as exc:
                problems.append(
                    Problem(f"{path}.allowed_values", exc.message, "invalid_parameter_spec", exc.suggestion)
                )
    elif kind == "enum":
        problems.append(
            Problem(
                path,
                "an enum parameter needs allowed_values",
                "invalid_parameter_spec",
                "add allowed_values: [a, b]",
            )
        )
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            compile_safe(str(pattern))
        except UnsafePatternError as exc:
            problems.append(Problem(f"{path}.pattern", f"unusable pattern: {exc}", "invalid_parameter_spec"))
    minimum = _bound(raw.get("min", raw.get("minimum")), kind, f"{path}.min", problems)
    maximum = _bound(raw.get("max", raw.get("maximum")), kind, f"{path}.max", problems)
    if minimum is not None and maximum is not None and minimum > maximum:
        problems.append(
            Problem(
                f"{path}.min", f"min {minimum:g} is greater than max {maximum:g}", "invalid_parameter_spec"
            )
        )
    required = raw.get("required", False)
    if not isinstance(required, bool):
        problems.append(
            Problem(f"{path}.required", "required must be true or false", "invalid_parameter_spec")
        )
    if len(problems) > start:
        # Keep the name known so that templates using it are not reported a second time.
        return ParameterSpec(name=name, type=kind)
    spec = ParameterSpec(
        name=name,
        type=kind,
        description=str(raw.get("description") or ""),
        required=bool(required),
        pattern=str(pattern) if pattern is not None else None,
        minimum=minimum,
        maximum=maximum,
        allowed_values=allowed,
    )
    default = raw.get("default")
    if default is None or (default == "" and kind != "string"):
        return spec
    try:
        return dataclasses.replace(spec, default=_check(spec, default))
    except _Invalid as exc:
        problems.append(
            Problem(
                f"{path}.default",
                f"default does not fit the parameter: {exc.message}",
                "invalid_parameter_spec",
                exc.suggestion,
            )
        )
        return spec


def parse_parameter_specs(
    raw: Any, path: str = "parameters"
) -> tuple[tuple[ParameterSpec, ...], list[Problem]]:
    """Parse the list form (`- name: x`) or mapping form (`x: {type: …}`); return specs and problems.

    When problems are returned the specs are only good for knowing the declared names.
    """
    problems: list[Problem] = []
    specs: list[ParameterSpec] = []
    entries: list[tuple[Any, Any, str]] = []
    if raw is None:
        return (), problems
    if isinstance(raw, list):
        for index, item in enumerate(raw):
            name = item.get("name") if isinstance(item, Mapping) else None
            entries.append((name, item, f"{path}[{index}]"))
    elif isinstance(raw, Mapping):
        entries = [(name, item if item is not None else {}, f"{path}.{name}") for name, item in raw.items()]
    else:
        problems.append(Problem(path, "parameters must be a list or a mapping", "invalid_type"))
        return (), problems
    seen: set[str] = set()
    for name, item, item_path in entries:
        if not isinstance(item, Mapping):
            problems.append(Problem(item_path, "a parameter must be a mapping of its fields", "invalid_type"))
            continue
        if name in seen:
            problems.append(
                Problem(item_path, f"parameter '{name}' is declared twice", "duplicate_parameter")
            )
            continue
        spec = _parse_one(name, item, item_path, problems)
        if spec is not None:
            seen.add(spec.name)
            specs.append(spec)
    return tuple(specs), problems
