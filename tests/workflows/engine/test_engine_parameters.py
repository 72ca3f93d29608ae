"""Parameter coercion, defaults and constraints, with every problem reported at once."""

from typing import Any

import pytest

from workflows.engine import (
    ParameterError,
    ParameterSpec,
    WorkflowValidationError,
    parse_parameter_specs,
    validate_parameters,
)


def spec(name: str = "p", **fields: Any) -> ParameterSpec:
    specs, problems = parse_parameter_specs({name: fields})
    assert problems == []
    return specs[0]


def check(param: ParameterSpec, value: Any) -> Any:
    return validate_parameters([param], {param.name: value})[param.name]


def errors(specs: list[ParameterSpec], values: dict[str, Any]) -> list[Any]:
    with pytest.raises(ParameterError) as caught:
        validate_parameters(specs, values)
    return caught.value.problems


@pytest.mark.parametrize(
    ("kind", "given", "expected"),
    [
        ("int", "3", 3),
        ("int", " -7 ", -7),
        ("int", 3.0, 3),
        ("integer", 12, 12),
        ("number", "2.5", 2.5),
        ("number", "4", 4),
        ("float", 1, 1),
        ("bool", "true", True),
        ("bool", "Yes", True),
        ("boolean", "0", False),
        ("bool", "off", False),
        ("bool", 1, True),
        ("duration", "10m", "10m"),
        ("duration", 30, "30s"),
        ("duration", " 1h30m ", "1h30m"),
        ("string", 15, "15"),
        ("string", True, "true"),
        ("list", "a, b,,c", ["a", "b", "c"]),
        ("array", '["x", 1]', ["x", 1]),
        ("list", ("a",), ["a"]),
        ("map", '{"team": "a"}', {"team": "a"}),
        ("object", {"k": 1}, {"k": 1}),
    ],
)
def test_values_from_forms_and_clis_are_coerced(kind: str, given: Any, expected: Any) -> None:
    value = check(spec(type=kind), given)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        ("int", "3.5"),
        ("int", True),
        ("int", "three"),
        ("number", "nan"),
        ("number", [1]),
        ("bool", "maybe"),
        ("bool", 2),
        ("duration", "10x"),
        ("list", 5),
        ("map", "[1]"),
        ("map", "not json"),
        ("string", {"a": 1}),
    ],
)
def test_wrong_types_name_parameter_value_and_expected_type(kind: str, given: Any) -> None:
    [problem] = errors([spec("replicas", type=kind)], {"replicas": given})
    assert problem.path == "parameters.replicas"
    assert problem.code == "parameter_type"
    assert "replicas" in problem.message and repr(given)[:20] in problem.message
    assert problem.suggestion


def test_defaults_fill_missing_values_and_are_copied() -> None:
    specs = [spec("env", default="dev"), spec("tags", type="list", default=["a"]), spec("note")]
    first = validate_parameters(specs, {})
    assert first == {"env": "dev", "tags": ["a"], "note": None}
    first["tags"].append("mutated")
    assert validate_parameters(specs, {})["tags"] == ["a"]


def test_blank_form_fields_count_as_missing_except_for_optional_text() -> None:
    specs = [spec("n", type="int", default=2), spec("label"), spec("name", required=True)]
    assert validate_parameters(specs, {"n": "", "label": "", "name": "x"}) == {
        "n": 2,
        "label": "",
        "name": "x",
    }
    [problem] = errors(specs, {"name": ""})
    assert problem.code == "parameter_required"


def test_required_parameters() -> None:
    [problem] = errors([spec("app_name", required=True, description="Application name")], {})
    assert problem.path == "parameters.app_name"
    assert problem.message == "parameter 'app_name' is required"
    assert problem.suggestion == "set app_name (string): Application name"


def test_allowed_values_with_did_you_mean() -> None:
    environment = spec("environment", type="enum", allowed_values=["development", "staging", "production"])
    assert check(environment, "staging") == "staging"
    [problem] = errors([environment], {"environment": "prodution"})
    assert problem.code == "parameter_allowed_values"
    assert problem.suggestion == "did you mean 'production'?"
    [problem] = errors([environment], {"environment": "x"})
    assert problem.suggestion == "allowed values: development, staging, production"


def test_allowed_values_apply_to_other_types_after_coercion() -> None:
    size = spec("size", type="int", allowed_values=["1", 2, 4])
    assert check(size, "4") == 4
    assert errors([size], {"size": 3})[0].code == "parameter_allowed_values"


def test_pattern() -> None:
    name = spec("app", pattern="^[a-z0-9-]+$", description="lowercase")
    assert check(name, "my-app") == "my-app"
    [problem] = errors([name], {"app": "My App"})
    assert problem.code == "parameter_pattern" and "^[a-z0-9-]+$" in problem.message
    assert problem.suggestion == "lowercase"


@pytest.mark.parametrize(
    ("fields", "ok", "low", "high"),
    [
        ({"type": "int", "min": 1, "max": 10}, 10, 0, 11),
        ({"type": "number", "min": 0.5, "max": 1.5}, 1.5, 0.25, 2),
        ({"type": "string", "min": 2, "max": 3}, "abc", "a", "abcd"),
        ({"type": "duration", "min": "1m", "max": "1h"}, "30m", "30s", "2h"),
        ({"type": "list", "max": 2, "min": 1}, ["a", "b"], [], ["a", "b", "c"]),
    ],
)
def test_minimum_and_maximum(fields: dict[str, Any], ok: Any, low: Any, high: Any) -> None:
    param = spec("v", **fields)
    assert check(param, ok) == ok
    assert errors([param], {"v": low})[0].code == "parameter_min"
    assert errors([param], {"v": high})[0].code == "parameter_max"


def test_unknown_parameters_are_errors_with_suggestions() -> None:
    found = errors([spec("replicas", type="int")], {"replica": 2, "zzz": 1})
    assert [(p.path, p.code, p.suggestion) for p in found] == [
        ("parameters.replica", "parameter_unknown", "did you mean 'replicas'?"),
        ("parameters.zzz", "parameter_unknown", "declared parameters: replicas"),
    ]
    assert errors([], {"x": 1})[0].suggestion == "this workflow takes no parameters"


def test_every_problem_is_reported_together() -> None:
    specs = [spec("a", required=True), spec("b", type="int"), spec("c", type="bool")]
    found = errors(specs, {"b": "x", "c": "maybe", "d": 1})
    assert [p.path for p in found] == ["parameters.d", "parameters.a", "parameters.b", "parameters.c"]
    assert issubclass(ParameterError, WorkflowValidationError)


def test_overlong_text_is_refused() -> None:
    assert errors([spec("s")], {"s": "x" * 70_000})[0].code == "parameter_length"


def test_spec_parsing_problems() -> None:
    raw = [
        {"name": "a", "type": "int", "default": "x"},
        {"name": "a", "type": "int"},
        {"name": "bad name!"},
        {"name": "b", "type": "duration", "max": "forever"},
        {"name": "c", "type": "int", "min": True},
        {"name": "d", "required": "yes"},
        {"name": "e", "allowed_values": []},
        {"name": "f", "pattern": "x" * 300},
        "oops",
    ]
    specs, problems = parse_parameter_specs(raw)
    assert [(p.path, p.code) for p in problems] == [
        ("parameters[0].default", "invalid_parameter_spec"),
        ("parameters[1]", "duplicate_parameter"),
        ("parameters[2]", "invalid_parameter_spec"),
        ("parameters[3].max", "invalid_parameter_spec"),
        ("parameters[4].min", "invalid_parameter_spec"),
        ("parameters[5].required", "invalid_parameter_spec"),
        ("parameters[6].allowed_values", "invalid_parameter_spec"),
        ("parameters[7].pattern", "invalid_parameter_spec"),
        ("parameters[8]", "invalid_type"),
    ]
    assert "d" in [s.name for s in specs]  # names stay known for reference checks


def test_enum_type_is_inferred_from_allowed_values_and_bounds_parse_durations() -> None:
    specs, problems = parse_parameter_specs(
        {"tier": {"allowedValues": ["a", "b"]}, "ttl": {"type": "duration", "max": "1d"}}
    )
    assert problems == []
    assert specs[0].type == "enum" and specs[0].allowed_values == ("a", "b")
    assert specs[1].maximum == 86400
    assert parse_parameter_specs("nope")[1][0].code == "invalid_type"
    assert parse_parameter_specs(None) == ((), [])
