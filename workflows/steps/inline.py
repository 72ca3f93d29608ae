"""Run a whole (provider) workflow inside one step, sharing the step's log and stop checks.

Provider workflows are small and linear (apply objects, wait, look something up), so they run in
the worker that runs the `provision` step instead of as an execution of their own: the resource's
state, log and outputs stay on one step. `if`/`unless`, `when: on_failure|always`, retries,
`continueOnError`, step outputs, `setVariables` and workflow outputs behave as in an execution;
approval gates are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.engine.conditions import parse_condition
from workflows.engine.errors import ConditionEvaluationError, ConditionSyntaxError, TemplateError
from workflows.engine.legacy import condition_context
from workflows.engine.model import StepDefinition, WorkflowDefinition
from workflows.engine.outputs import apply_step_outputs, render_workflow_outputs
from workflows.engine.parameters import validate_parameters
from workflows.engine.planning import topological_order
from workflows.engine.templating import make_context, render_value
from workflows.steps.base import StepContext, StepResult
from workflows.steps.registry import get_step, step_classes

# A provider workflow may return outputs whose names it only knows at run time (e.g. `environment`):
# this output holds a JSON object that is merged into the others.
MERGED_OUTPUTS = "outputs_json"


@dataclass
class InlineResult:
    """How an inline workflow ended: outputs, the first failure, and why nothing was applied (if so)."""

    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    render_only: str = ""


def _accepted(definition: WorkflowDefinition, offered: Mapping[str, Any]) -> dict[str, Any]:
    """The offered values the workflow declares (a provider takes what it needs and ignores the rest)."""
    names = {spec.name for spec in definition.parameters}
    return {key: value for key, value in offered.items() if key in names}


def _conditions_allow(step: StepDefinition, context: Mapping[str, Any]) -> str | None:
    """None when the step may run, else why it is skipped."""
    for expression, wanted in ((step.if_expr, True), (step.unless_expr, False)):
        if expression is not None and parse_condition(expression).evaluate(context) != wanted:
            return f"condition `{expression}` was {'false' if wanted else 'true'}"
    return None


class InlineRun:
    """State of one inline run: parameters, variables and each finished step's status and outputs."""

    def __init__(
        self, ctx: StepContext, definition: WorkflowDefinition, log: Callable[..., None], label: str
    ):
        self.ctx = ctx
        self.definition = definition
        self.log = log
        self.label = label
        self.parameters: dict[str, Any] = {}
        self.variables: dict[str, Any] = {}
        self.steps: dict[str, dict[str, Any]] = {}
        self.render_only = ""

    def context(self) -> dict[str, Any]:
        return make_context(
            parameters=self.parameters,
            variables=self.variables,
            steps=self.steps,
            app={"name": self.ctx.app_name, **dict(self.ctx.app)},
            execution={
                "id": self.ctx.execution_id,
                "app_name": self.ctx.app_name,
                "step": self.ctx.step_name,
            },
        )

    def sub_context(self, step: StepDefinition, config: Any, env: Any) -> StepContext:
        remaining = self.ctx.remaining()
        timeout = step.timeout if remaining is None else min(step.timeout or remaining, remaining)

        def log(message: Any, stream: str = "stdout", level: str = "info") -> None:
            self.log(f"[{self.label}/{step.name}] {message}", stream, level)

        return StepContext(
            execution_id=self.ctx.execution_id,
            app_name=self.ctx.app_name,
            step_name=f"{self.ctx.step_name}/{step.name}",
            step_type=step.type,
            config=config,
            env={key: str(value) for key, value in (env or {}).items()},
            workdir=self.ctx.workdir / self.label.replace("/", "-") / step.name,
            timeout=timeout,
            attempt=self.ctx.attempt,
            log=log,
            check_stop=self.ctx.check_stop,
            secrets=self.ctx.secrets,
            app=self.ctx.app,
            resources=self.ctx.resources,
            owner=self.ctx.owner,
        )

    def run_step(self, step: StepDefinition) -> StepResult:
        """Render and run one step with its retries."""
        context = self.context()
        config = render_value(step.config, context, f"steps.{step.name}.config")
        env = render_value(step.env, context, f"steps.{step.name}.env")
        implementation = get_step(step.type)
        attempts = step.retries.limit + 1
        for attempt in range(1, attempts + 1):
            result = implementation.run(self.sub_context(step, config, env))
            if result.status == "completed" or attempt == attempts:
                return result
            delay = step.retries.delay_for(attempt)
            self.log(
                f"[{self.label}/{step.name}] attempt {attempt} failed: {result.error}; retrying in {delay:g}s"
            )
            self.ctx.sleep(delay)
        return result

    def execute(self, offered: Mapping[str, Any]) -> InlineResult:
        definition = self.definition
        try:
            self.parameters = validate_parameters(definition.parameters, _accepted(definition, offered))
            self.variables = dict(render_value(definition.variables, self.context(), "variables"))
        except (ValueError, TemplateError) as exc:
            return InlineResult(error=f"{self.label}: {exc}")
        failure = ""
        for name in topological_order(definition):
            step = definition.step(name)
            self.ctx.raise_if_stopped()
            if step.when == "manual" or step_classes()[step.type].requires_approval:
                return InlineResult(
                    error=f"{self.label}: step '{name}' is an approval gate; not allowed here"
                )
            runs = step.when == "always" or (step.when == "on_failure") == bool(failure)
            try:
                skip = None if runs else "not run after the earlier outcome"
                skip = skip or _conditions_allow(step, condition_context(step.env, self.context()))
            except (ConditionSyntaxError, ConditionEvaluationError) as exc:
                return InlineResult(error=f"{self.label}: step '{name}': {exc}")
            if skip:
                self.steps[name] = {"status": "skipped", "outputs": {}}
                continue
            try:
                result = self.run_step(step)
                outputs, new_variables = (
                    apply_step_outputs(step, result.outputs, self.context())
                    if result.status == "completed"
                    else (dict(result.outputs), {})
                )
            except (ValueError, TemplateError) as exc:
                result, outputs, new_variables = StepResult.fail(str(exc)), {}, {}
            self.variables.update(new_variables)
            self.steps[name] = {"status": result.status, "outputs": outputs}
            if result.outputs.get("render_only") and not self.render_only:
                self.render_only = str(result.outputs.get("reason") or "render-only mode")
            if result.status == "failed" and not step.continue_on_error and not failure:
                failure = f"{self.label}: step '{name}' failed: {result.error}"
        if failure:
            return InlineResult(error=failure, render_only=self.render_only)
        try:
            outputs = render_workflow_outputs(definition, self.context())
            merged = outputs.pop(MERGED_OUTPUTS, None)
            if merged:
                extra = json.loads(merged)
                if not isinstance(extra, dict):
                    raise ValueError(f"{MERGED_OUTPUTS} must be a JSON object")
                outputs = {**{str(k): v for k, v in extra.items()}, **outputs}
        except (ValueError, TemplateError) as exc:
            return InlineResult(error=f"{self.label}: outputs could not be rendered: {exc}")
        return InlineResult(outputs=outputs, render_only=self.render_only)


def run_inline(
    ctx: StepContext,
    definition: WorkflowDefinition,
    parameters: Mapping[str, Any],
    *,
    log: Callable[..., None],
    label: str,
) -> InlineResult:
    """Run `definition` with the `parameters` it declares; StepStopped propagates to the caller."""
    return InlineRun(ctx, definition, log, label).execute(parameters)
