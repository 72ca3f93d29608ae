"""The original's workflow idioms: conditions, `{{ now }}`, ignored keys, step types it never had,
provider inputs."""

from __future__ import annotations

import re

import pytest

from workflows.engine.conditions import parse_condition
from workflows.engine.errors import WorkflowValidationError
from workflows.engine.legacy import PROVIDER_INPUTS, condition_context, translate_condition
from workflows.engine.loader import load_workflow
from workflows.engine.templating import render

TYPES = {"noop", "script", "kubernetes"}


@pytest.mark.parametrize(
    ("original", "translated"),
    [
        ("$ENVIRONMENT == development", "env.ENVIRONMENT == 'development'"),
        ("${workflow.SECURITY_STATUS} == passed", "variables.SECURITY_STATUS == 'passed'"),
        ("${run-tests.coverage} >= ${workflow.MIN}", "steps.run-tests.outputs.coverage >= variables.MIN"),
        ("build-backend.success", "steps.build-backend.status == 'completed'"),
        ("build-backend.failed", "steps.build-backend.status == 'failed'"),
        ("$SKIP_TESTS", "env.SKIP_TESTS"),
        ("$SKIP_TESTS == true", "env.SKIP_TESTS == true"),
        ("$VERSION matches ^v[0-9]+$", "env.VERSION matches '^v[0-9]+$'"),
        ("$BRANCH contains hotfix", "env.BRANCH contains 'hotfix'"),
        ("parameters.env == 'prod'", "parameters.env == 'prod'"),
    ],
)
def test_conditions_translate_into_the_safe_language(original: str, translated: str) -> None:
    assert translate_condition(original) == translated
    parse_condition(translated)


def test_dollar_variables_read_the_step_env_and_unset_ones_are_empty() -> None:
    context = condition_context({"ENVIRONMENT": "staging"}, {"variables": {"MIN": "80"}})
    assert parse_condition(translate_condition("$ENVIRONMENT == staging")).evaluate(context)
    assert parse_condition(translate_condition("$MIN == 80")).evaluate(context)
    assert not parse_condition(translate_condition("$SKIP_TESTS")).evaluate(context)
    # A bare word is a string literal, never code.
    hostile = translate_condition("$X == __import__('os')")
    assert hostile == "env.X == '__import__(\\'os\\')'"
    assert not parse_condition(hostile).evaluate(context)


def test_a_workflow_with_the_original_forms_loads_and_lists_ignored_keys() -> None:
    definition = load_workflow(
        """
apiVersion: workflow.dev/v1
kind: PlatformWorkflow
metadata: {name: scan}
spec:
  triggers: [{schedule: "0 2 * * *"}]
  steps:
    - {name: build, type: noop}
    - {name: deploy, type: noop, if: build.success, env: {ENVIRONMENT: production}}
    - {name: notify, type: noop, if: $ENVIRONMENT == production, unless: $SKIP}
""",
        known_step_types=TYPES,
    )
    assert definition.step("deploy").if_expr == "steps.build.status == 'completed'"
    assert definition.warnings == (
        "spec: ignored 'triggers': not used by innominatus (the original innominatus ignored them too)",
    )


def test_step_types_the_original_never_had_are_refused_saying_so() -> None:
    with pytest.raises(WorkflowValidationError) as caught:
        load_workflow("metadata: {name: x}\nsteps:\n  - {name: a, type: workflow}\n", known_step_types=TYPES)
    assert "never supported by the original innominatus either" in caught.value.problems[0].message


def test_go_template_now_and_step_output_render() -> None:
    text = render("{{ now }} {{ .steps.make.output.url }}", {"steps": {"make": {"output": {"url": "u"}}}})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ u", text)


def test_provider_inputs_are_declared_unless_the_file_declares_them() -> None:
    source = """
metadata: {name: p}
parameters: [{name: namespace, type: string, required: true}]
steps: [{name: a, type: noop, config: {outputs: {x: "{{ parameters.app_name }}/{{ parameters.namespace }}"}}}]
"""
    with pytest.raises(WorkflowValidationError, match="parameter 'app_name' is not declared"):
        load_workflow(source, known_step_types=TYPES)
    definition = load_workflow(source, known_step_types=TYPES, implicit_parameters=PROVIDER_INPUTS)
    assert definition.parameter("namespace").required is True
    assert definition.parameter("app_name").required is False
