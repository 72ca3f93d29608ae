"""Every class of load-time validation problem, with its path, code and suggestion."""

from collections.abc import Callable
from typing import Any

import pytest

from workflows.engine import Problem

Problems = Callable[..., list[Problem]]


def wf(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": "t"}, "steps": list(steps), **extra}


def only(found: list[Problem], code: str) -> Problem:
    matching = [p for p in found if p.code == code]
    assert len(matching) == 1, found
    return matching[0]


def test_unknown_step_type_suggests_the_closest(problems: Problems) -> None:
    found = problems(wf({"name": "a", "type": "kubernets"}))
    assert found == [
        Problem(
            "steps[0].type",
            "unknown step type 'kubernets'",
            "unknown_step_type",
            "did you mean 'kubernetes'?",
        )
    ]


def test_missing_type_and_bad_name(problems: Problems) -> None:
    found = problems(wf({"name": "has space"}, {"type": "noop"}))
    assert {(p.path, p.code) for p in found} == {
        ("steps[0].name", "invalid_name"),
        ("steps[0].type", "missing_type"),
        ("steps[1].name", "invalid_name"),
    }


def test_unknown_dependency_with_suggestion(problems: Problems) -> None:
    found = problems(
        wf({"name": "deploy", "type": "noop"}, {"name": "test", "type": "noop", "dependsOn": ["deploi"]})
    )
    problem = only(found, "unknown_dependency")
    assert problem.path == "steps[1].dependsOn[0]"
    assert problem.suggestion == "did you mean 'deploy'?"


def test_dependency_cycle_is_named(problems: Problems) -> None:
    found = problems(
        wf(
            {"name": "a", "type": "noop", "dependsOn": ["c"]},
            {"name": "b", "type": "noop", "dependsOn": ["a"]},
            {"name": "c", "type": "noop", "dependsOn": ["b"]},
        )
    )
    problem = only(found, "dependency_cycle")
    assert problem.message == "dependency cycle: a -> c -> b -> a"


def test_cycle_through_implicit_ordering(problems: Problems) -> None:
    # c runs after b implicitly, and a explicitly waits for c.
    found = problems(
        wf(
            {"name": "a", "type": "noop", "dependsOn": ["c"]},
            {"name": "b", "type": "noop"},
            {"name": "c", "type": "noop"},
        )
    )
    assert "a -> c -> b -> a" in only(found, "dependency_cycle").message


def test_self_dependency(problems: Problems) -> None:
    found = problems(wf({"name": "a", "type": "noop", "dependsOn": "a"}))
    assert found[0].code == "dependency_cycle" and found[0].path == "steps[0].dependsOn[0]"


def test_duplicate_step_names(problems: Problems) -> None:
    found = problems(wf({"name": "a", "type": "noop"}, {"name": "a", "type": "noop"}))
    assert only(found, "duplicate_step").path == "steps[1]"


@pytest.mark.parametrize(
    ("value", "suggestion"), [("on_sucess", "did you mean 'on_success'?"), ("later", None)]
)
def test_invalid_when(value: str, suggestion: str | None, problems: Problems) -> None:
    problem = only(problems(wf({"name": "a", "type": "noop", "when": value})), "invalid_when")
    assert problem.path == "steps[0].when"
    assert problem.suggestion == suggestion or "on_success, on_failure, always, manual" in (
        problem.suggestion or ""
    )


def test_unparsable_condition_shows_the_position(problems: Problems) -> None:
    problem = only(
        problems(wf({"name": "a", "type": "noop", "unless": "parameters.x == 'a' and"})), "invalid_condition"
    )
    assert problem.path == "steps[0].unless"
    assert "position 23" in problem.message
    assert problem.suggestion == "parameters.x == 'a' and\n" + " " * 23 + "^"


@pytest.mark.parametrize("field", ["timeout"])
def test_bad_durations(field: str, problems: Problems) -> None:
    problem = only(problems(wf({"name": "a", "type": "noop", field: "5 minutes"})), "invalid_duration")
    assert problem.path == f"steps[0].{field}"


def test_bad_workflow_timeout(problems: Problems) -> None:
    assert (
        only(problems(wf({"name": "a", "type": "noop"}, timeout="soon")), "invalid_duration").path
        == "timeout"
    )


@pytest.mark.parametrize(
    ("retries", "path"),
    [
        (-1, "steps[0].retries.limit"),
        (1000, "steps[0].retries.limit"),
        (True, "steps[0].retries"),
        ("3", "steps[0].retries"),
        ({"limit": 2, "backof": 3}, "steps[0].retries.backof"),
        ({"limit": 2, "backoff": "fast"}, "steps[0].retries.backoff"),
        ({"limit": 2, "backoff": 60, "maxBackoff": 10}, "steps[0].retries"),
    ],
)
def test_bad_retry_settings(retries: Any, path: str, problems: Problems) -> None:
    assert (
        only(problems(wf({"name": "a", "type": "noop", "retries": retries})), "invalid_retries").path == path
    )


def test_invalid_parameter_specs(problems: Problems) -> None:
    found = problems(
        wf(
            {"name": "a", "type": "noop"},
            parameters={
                "env": {"type": "enum", "allowed_values": ["dev", "prod"], "default": "production"},
                "n": {"type": "strin"},
                "size": {"type": "int", "min": 5, "max": 1},
                "mode": {"type": "enum"},
                "x": {"type": "string", "requried": True},
                "p": {"type": "string", "pattern": "(a+)+$"},
            },
        )
    )
    by_path = {p.path: p for p in found}
    assert by_path["parameters.env.default"].suggestion == "allowed values: dev, prod"
    assert by_path["parameters.n.type"].suggestion == "did you mean 'string'?"
    assert "greater than max" in by_path["parameters.size.min"].message
    assert "needs allowed_values" in by_path["parameters.mode"].message
    assert by_path["parameters.x.requried"].suggestion == "did you mean 'required'?"
    assert "nested quantifiers" in by_path["parameters.p.pattern"].message


def test_template_references_are_checked(problems: Problems) -> None:
    found = problems(
        wf(
            {
                "name": "build",
                "type": "noop",
                "config": {"a": "{{ parameters.enviroment }}", "b": ["{{ foo.bar }}"]},
            },
            {
                "name": "test",
                "type": "noop",
                "env": {"X": "{{ variables.missing }} {{ steps.buidl.outputs.x }}"},
            },
            {
                "name": "deploy",
                "type": "noop",
                "dependsOn": ["build"],
                "namespace": "{{ steps.test.outputs.ns }}",
            },
            {
                "name": "notify",
                "type": "noop",
                "config": {"x": "{{ steps.notify.status }} {{ steps.build.outptus }}"},
            },
            parameters=[{"name": "environment", "type": "string"}],
        )
    )
    summary = {(p.path, p.code, p.message, p.suggestion) for p in found}
    assert summary == {
        (
            "steps[0].config.a",
            "undefined_reference",
            "parameter 'enviroment' is not declared",
            "did you mean 'environment'?",
        ),
        (
            "steps[0].config.b[0]",
            "undefined_reference",
            "unknown name 'foo'",
            "available names: app, execution, parameters, resources, steps, variables",
        ),
        (
            "steps[1].env.X",
            "undefined_reference",
            "variable 'missing' is not declared",
            "declare it under variables or set it with setVariables",
        ),
        ("steps[1].env.X", "undefined_reference", "unknown step 'buidl'", "did you mean 'build'?"),
        (
            "steps[2].namespace",
            "not_upstream",
            "step 'deploy' reads steps.test but does not run after 'test'",
            "add 'test' to the dependsOn of 'deploy'",
        ),
        (
            "steps[3].config.x",
            "not_upstream",
            "step 'notify' cannot read its own results here",
            "use `outputs` instead",
        ),
        (
            "steps[3].config.x",
            "undefined_reference",
            "steps.build has no 'outptus'",
            "did you mean 'outputs'?",
        ),
    }


def test_condition_references_are_checked(problems: Problems) -> None:
    found = problems(
        wf(
            {"name": "a", "type": "noop", "if": "paramters.env == 'x'"},
            {"name": "b", "type": "noop", "if": "steps.c.status == 'completed'"},
            {"name": "c", "type": "noop"},
        )
    )
    assert {(p.path, p.code) for p in found} == {
        ("steps[0].if", "undefined_reference"),
        ("steps[1].if", "not_upstream"),
    }
    assert found[0].suggestion == "did you mean 'parameters'?"


def test_outputs_and_variables_sections_are_checked(problems: Problems) -> None:
    found = problems(
        wf(
            {"name": "a", "type": "noop", "outputs": {"u": "{{ output.url }}"}},
            outputs={"x": "{{ steps.b.outputs.y }}"},
            variables={"v": "{{ steps.a.outputs.u }}"},
        )
    )
    assert {(p.path, p.code) for p in found} == {
        ("steps[0].outputs.u", "undefined_reference"),
        ("outputs.x", "undefined_reference"),
        ("variables.v", "undefined_reference"),
    }


def test_template_syntax_errors(problems: Problems) -> None:
    found = problems(wf({"name": "a", "type": "noop", "config": {"s": "{{ parameters.x "}}))
    assert found[0].code == "template_syntax" and found[0].path == "steps[0].config.s"
    found = problems(wf({"name": "a", "type": "noop", "config": {"s": "{% macro m() %}x{% endmacro %}"}}))
    assert "'macro' is not allowed" in found[0].message


def test_document_shape_problems(problems: Problems) -> None:
    found = problems({"metadata": {}, "paramters": {}, "spec": {"steps": [], "stpes": 1}, "steps": []})
    assert {(p.path, p.code, p.suggestion) for p in found} == {
        ("paramters", "unknown_field", "did you mean 'parameters'?"),
        ("spec.stpes", "unknown_field", "did you mean 'steps'?"),
        ("metadata.name", "missing_name", None),
        ("spec.steps", "conflicting_keys", None),
        ("spec.steps", "missing_steps", None),
    }


def test_step_shape_problems(problems: Problems) -> None:
    found = problems(
        wf(
            {
                "name": "a",
                "type": "noop",
                "config": {"ns": "x"},
                "ns": "y",
                "dependsOn": [1],
                "depends_on": ["b"],
                "parallel": "yes",
                "parallelGroup": True,
                "env": {"A": [1]},
                "outputs": 5,
            },
            "not a mapping",
        )
    )
    assert {(p.path, p.code) for p in found} == {
        ("steps[0].ns", "conflicting_keys"),
        ("steps[0].depends_on", "conflicting_keys"),
        ("steps[0].dependsOn", "invalid_type"),
        ("steps[0].parallel", "invalid_type"),
        ("steps[0].parallelGroup", "invalid_type"),
        ("steps[0].env.A", "invalid_type"),
        ("steps[0].outputs", "invalid_type"),
        ("steps[1]", "invalid_type"),
    }


def test_all_problems_are_reported_at_once(problems: Problems) -> None:
    found = problems(
        wf(
            {"name": "a", "type": "kubernets", "when": "sometimes", "timeout": "x", "retries": -1},
            {"name": "b", "type": "noop", "dependsOn": ["z"], "if": "(", "config": {"x": "{{ nope }}"}},
        )
    )
    assert {p.code for p in found} == {
        "unknown_step_type",
        "invalid_when",
        "invalid_duration",
        "invalid_retries",
        "unknown_dependency",
        "invalid_condition",
        "undefined_reference",
    }


def test_error_message_lists_every_problem(problems: Problems) -> None:
    from workflows.engine import WorkflowValidationError, load_workflow

    with pytest.raises(WorkflowValidationError) as caught:
        load_workflow(wf({"name": "a", "type": "x"}, {"name": "b", "type": "y"}), known_step_types={"noop"})
    assert str(caught.value).startswith("2 problem(s): steps[0].type: unknown step type 'x'")
    assert caught.value.to_list()[1]["path"] == "steps[1].type"
