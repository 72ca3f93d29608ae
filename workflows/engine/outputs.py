"""Step outputs, `setVariables`, workflow variables and workflow outputs, rendered from a context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import StepOutputError
from .model import StepDefinition, WorkflowDefinition
from .templating import render, render_value


def apply_step_outputs(
    step: StepDefinition, raw_outputs: Mapping[str, Any], context: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return (exported outputs, variables to set) for a finished step.

    No declared outputs: every raw output is exported. A declared name without a template exports
    the raw value of that key (a missing key is an error). A template is rendered with `outputs`
    bound to the raw outputs. `setVariables` templates then see `outputs` = the exported outputs.
    """
    if not step.outputs:
        exported: dict[str, Any] = dict(raw_outputs)
    else:
        exported = {}
        raw_context = {**context, "outputs": dict(raw_outputs)}
        for name, template in step.outputs.items():
            path = f"steps.{step.name}.outputs.{name}"
            if template is None:
                if name not in raw_outputs:
                    available = ", ".join(sorted(raw_outputs)) or "none"
                    message = f"step '{step.name}' did not produce the declared output '{name}'"
                    raise StepOutputError(f"{message} (produced: {available})", path)
                exported[name] = raw_outputs[name]
            else:
                exported[name] = render(template, raw_context, path=path)
    variable_context = {**context, "outputs": exported}
    variables = {
        name: render(template, variable_context, path=f"steps.{step.name}.setVariables.{name}")
        for name, template in step.set_variables.items()
    }
    return exported, variables


def render_workflow_outputs(defn: WorkflowDefinition, context: Mapping[str, Any]) -> dict[str, Any]:
    """Render the workflow's `outputs` templates once the run has finished."""
    return {
        name: render(template, context, path=f"outputs.{name}") for name, template in defn.outputs.items()
    }


def render_workflow_variables(defn: WorkflowDefinition, context: Mapping[str, Any]) -> dict[str, Any]:
    """Render the workflow's initial `variables` (templates may use parameters, app, execution, resources)."""
    rendered = render_value(defn.variables, context, "variables")
    assert isinstance(rendered, dict)
    return rendered
