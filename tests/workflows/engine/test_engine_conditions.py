"""The if/unless expression language: grammar, semantics, errors with positions, and safety."""

import time
from typing import Any

import pytest

from workflows.engine import ConditionEvaluationError, ConditionSyntaxError, parse_condition
from workflows.engine.safe_regex import MAX_INPUT_LENGTH

CONTEXT: dict[str, Any] = {
    "parameters": {
        "env": "prod",
        "replicas": 3,
        "count": "10",
        "debug": False,
        "flag": "false",
        "branch": "feature/new-ui",
        "version": "v2.0.0",
        "regions": ["eu", "us"],
        "empty": "",
    },
    "variables": {"SECURITY_STATUS": "passed"},
    "steps": {"build-app": {"status": "completed", "outputs": {"url": "https://x", "tags": {"a": 1}}}},
    "resources": {"db": {"host": "pg"}},
}


def ev(expression: str, context: dict[str, Any] | None = None) -> bool:
    return parse_condition(expression).evaluate(CONTEXT if context is None else context)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("parameters.env == 'prod'", True),
        ('parameters.env != "prod"', False),
        (".parameters.env == 'prod'", True),
        ("parameters.replicas == '3'", True),
        ("parameters.count == 10", True),
        ("parameters.count > 9", True),
        ("parameters.replicas >= 3 and parameters.replicas < 4", True),
        ("parameters.replicas <= 2.5", False),
        ("parameters.env > 'abc'", True),
        ("parameters.debug == false", True),
        ("parameters.flag == false", True),
        ("parameters.flag", False),
        ("parameters.empty", False),
        ("parameters.env", True),
        ("parameters.branch startsWith 'feature/'", True),
        ("parameters.branch endsWith '-ui'", True),
        ("parameters.branch contains 'new'", True),
        ("parameters.regions contains 'us'", True),
        ("steps.build-app.outputs.tags contains 'a'", True),
        ("parameters.version matches '^v[0-9]+\\.0\\.0$'", True),
        ("parameters.version matches '^v\\d+\\.1'", False),
        ("parameters.env in ['dev', 'prod']", True),
        ("parameters.env not in ['dev', 'prod']", False),
        ("'eu' in parameters.regions", True),
        ("3 in [1, 2, '3']", True),
        ("steps.build-app.status == 'completed'", True),
        ("steps['build-app'].outputs.url startsWith 'https'", True),
        ("parameters.regions[1] == 'us'", True),
        ("variables.SECURITY_STATUS == 'passed'", True),
        ("resources.db != null", True),
        ("resources.s3-bucket != null", False),
        ("resources.s3-bucket == null", True),
        ("null == resources.db.host", False),
        ("true", True),
        ("-1 < 0", True),
    ],
)
def test_semantics(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("true or false and false", True),  # and binds tighter than or
        ("(true or false) and false", False),
        ("not false and false", False),  # not binds tighter than and
        ("not (false and false)", True),
        ("!false && true", True),
        ("false || !true || true", True),
        ("not not true", True),
        ("parameters.env == 'prod' and not parameters.debug", True),
    ],
)
def test_precedence(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


def test_short_circuit_skips_unknown_names() -> None:
    assert ev("false and parameters.missing == 1") is False
    assert ev("true or parameters.missing == 1") is True


@pytest.mark.parametrize(
    ("expression", "position", "fragment"),
    [
        ("parameters.env ==", 17, "expected a value"),
        ("parameters.env = 'x'", 15, "unexpected character '='"),
        ("(true", 5, "expected ')'"),
        ("a == b == c", 7, "cannot be chained"),
        ("'unterminated", 0, "unexpected character"),
        ("", 0, "empty expression"),
        ("true false", 5, "unexpected 'false'"),
        ("a.", 2, "expected a name"),
        ("a[b]", 2, "quoted key or an index"),
        ("[1, 2", 5, "expected ']'"),
        ("and", 0, "expected a value"),
    ],
)
def test_syntax_errors_carry_positions(expression: str, position: int, fragment: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(expression)
    assert caught.value.position == position
    assert fragment in caught.value.message
    assert caught.value.expression == expression


@pytest.mark.parametrize(
    "attack",
    [
        "__import__('os').system('id')",
        "parameters.__class__.__mro__",
        "().__class__",
        "parameters.env.upper()",
        "exec('1')",
        "lambda: 1",
        "parameters['env'] + 'x'",
        "parameters.env if true else 1",
    ],
)
def test_injection_attempts_are_rejected(attack: str) -> None:
    # Either the grammar refuses it, or it is plain mapping lookup that finds nothing.
    with pytest.raises((ConditionSyntaxError, ConditionEvaluationError)):
        parse_condition(attack).evaluate(CONTEXT)


def test_unknown_names_are_errors_not_false() -> None:
    with pytest.raises(ConditionEvaluationError, match=r"unknown name 'parameters\.nope'"):
        ev("parameters.nope == 'x'")
    with pytest.raises(ConditionEvaluationError, match=r"unknown name 'foo\.bar'"):
        ev("not foo.bar")


@pytest.mark.parametrize(
    "expression",
    ["parameters.regions < 3", "parameters.regions startsWith 'a'", "1 in 2"],
)
def test_type_errors(expression: str) -> None:
    with pytest.raises(ConditionEvaluationError):
        ev(expression)


def test_names_lists_every_referenced_path() -> None:
    condition = parse_condition(
        ".parameters.env == 'x' or (steps.build.status in [variables.a, 'b'] and not resources['db'].host)"
    )
    assert condition.names() == {
        ("parameters", "env"),
        ("steps", "build", "status"),
        ("variables", "a"),
        ("resources", "db", "host"),
    }


def test_string_escapes() -> None:
    assert ev("'it\\'s' == \"it's\"", {}) is True
    assert ev("'a\\nb' contains '\\n'", {}) is True


def test_regex_guard_rejects_nested_quantifiers() -> None:
    started = time.perf_counter()
    with pytest.raises(ConditionEvaluationError, match="nested quantifiers"):
        ev("parameters.x matches '^(a+)+$'", {"parameters": {"x": "a" * 40 + "!"}})
    assert time.perf_counter() - started < 1


def test_regex_guard_rejects_long_patterns_and_inputs() -> None:
    with pytest.raises(ConditionEvaluationError, match="longer than 256"):
        ev(f"'a' matches '{'a' * 300}'", {})
    with pytest.raises(ConditionEvaluationError, match="longer than"):
        ev("parameters.x matches 'a'", {"parameters": {"x": "a" * (MAX_INPUT_LENGTH + 1)}})


def test_safe_patterns_on_large_inputs_are_fast() -> None:
    started = time.perf_counter()
    assert ev("parameters.x matches '^a+b$'", {"parameters": {"x": "a" * MAX_INPUT_LENGTH}}) is False
    assert time.perf_counter() - started < 1


def test_overlong_expression() -> None:
    with pytest.raises(ConditionSyntaxError, match="longer than"):
        parse_condition("true and " * 1000 + "true")


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(ConditionSyntaxError, match="nested too deeply"):
        parse_condition("(" * 200 + "true" + ")" * 200)
