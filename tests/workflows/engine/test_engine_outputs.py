"""Step output export, setVariables, and workflow variables/outputs rendering."""

import pytest

from workflows.engine import (
    StepDefinition,
    StepOutputError,
    TemplateRenderError,
    WorkflowDefinition,
    apply_step_outputs,
    make_context,
    render_workflow_outputs,
    render_workflow_variables,
)

CONTEXT = make_context(parameters={"env": "prod"}, app={"name": "shop"})
RAW = {"host": "db.internal", "port": 5432, "password": "s3cret"}


def test_no_declared_outputs_exports_everything() -> None:
    outputs, variables = apply_step_outputs(StepDefinition(name="db", type="noop"), RAW, CONTEXT)
    assert outputs == RAW and variables == {}


def test_listed_outputs_export_only_those_keys() -> None:
    step = StepDefinition(name="db", type="noop", outputs={"host": None, "port": None})
    outputs, _ = apply_step_outputs(step, RAW, CONTEXT)
    assert outputs == {"host": "db.internal", "port": 5432}


def test_missing_listed_output_is_an_error_naming_what_was_produced() -> None:
    step = StepDefinition(name="db", type="noop", outputs={"url": None})
    with pytest.raises(StepOutputError) as caught:
        apply_step_outputs(step, RAW, CONTEXT)
    assert caught.value.path == "steps.db.outputs.url"
    assert "produced: host, password, port" in caught.value.message


def test_output_templates_see_raw_outputs_and_the_context() -> None:
    step = StepDefinition(
        name="db",
        type="noop",
        outputs={
            "url": "postgres://{{ outputs.host }}:{{ outputs.port }}/{{ app.name }}-{{ parameters.env }}"
        },
        set_variables={"DATABASE_URL": "{{ outputs.url }}", "ENV": "{{ parameters.env }}"},
    )
    outputs, variables = apply_step_outputs(step, RAW, CONTEXT)
    assert outputs == {"url": "postgres://db.internal:5432/shop-prod"}
    # setVariables sees the exported outputs, not the raw ones.
    assert variables == {"DATABASE_URL": "postgres://db.internal:5432/shop-prod", "ENV": "prod"}


def test_set_variables_cannot_read_unexported_outputs() -> None:
    step = StepDefinition(
        name="db", type="noop", outputs={"host": None}, set_variables={"P": "{{ outputs.password }}"}
    )
    with pytest.raises(TemplateRenderError) as caught:
        apply_step_outputs(step, RAW, CONTEXT)
    assert caught.value.path == "steps.db.setVariables.P"


def test_workflow_outputs_and_variables() -> None:
    defn = WorkflowDefinition(
        name="w",
        variables={
            "region": "eu",
            "label": "{{ app.name }}-{{ parameters.env }}",
            "list": ["{{ parameters.env }}"],
        },
        outputs={
            "url": "https://{{ steps['deploy-app'].outputs.host }}",
            "user": "{{ .steps.db.output.user }}",
        },
    )
    assert render_workflow_variables(defn, CONTEXT) == {
        "region": "eu",
        "label": "shop-prod",
        "list": ["prod"],
    }
    context = make_context(
        steps={
            "deploy-app": {"status": "completed", "outputs": {"host": "shop.example"}},
            "db": {"outputs": {"user": "u"}},
        }
    )
    assert render_workflow_outputs(defn, context) == {"url": "https://shop.example", "user": "u"}
    with pytest.raises(TemplateRenderError) as caught:
        render_workflow_outputs(defn, make_context())
    assert caught.value.path == "outputs.url"
