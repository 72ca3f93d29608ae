"""What a planned deploy will offer to `${resources.<name>.<key>}`, and what it would refuse.

A dry run must refuse exactly what the deploy would refuse. The deploy provisions each resource with
its provider's workflow (which declares the parameters it takes and the outputs it returns) and then
renders the workload strictly against the resources' outputs. This module does the same work without
running anything: for each resource it finds the provider workflow the deploy would route to, builds
the parameters the `provision` step would offer (ExecutionResourceOps builds them with the same
function), validates them against the workflow's parameter specs, and evaluates the workflow's
`outputs` templates as far as they depend on parameters and variables only. An output that needs a
step's result becomes `<pending:resources.<name>.<key>>` text: its key is known, its value is not.
Only a resource whose output *keys* cannot be known before it runs (an `outputs_json` that needs step
results, or an external resource that declares no outputs) is left open: references to it are not
checked, as the deploy would be the first to know.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.engine.conditions import parse_condition
from workflows.engine.errors import (
    ConditionEvaluationError,
    ConditionSyntaxError,
    ParameterError,
    TemplateError,
)
from workflows.engine.model import StepDefinition, WorkflowDefinition
from workflows.engine.parameters import validate_parameters
from workflows.engine.templating import make_context, render, render_value
from workflows.models import Application
from workflows.providers.model import UnknownResourceType
from workflows.providers.registry import ProviderRegistry
from workflows.score import IngestResult
from workflows.score.errors import Location, ScoreProblem
from workflows.score.manifest_parts import PENDING, Values
from workflows.score.placeholders import PlaceholderError, iter_substitutable
from workflows.services import reconcile
from workflows.services.resource_values import (
    READABLE_STATES,
    effective_environment,
    instance_values,
    stored_secrets,
)
from workflows.services.resources import provision_parameters
from workflows.steps.inline import MERGED_OUTPUTS

PENDING_MARK = "<pending:"


@dataclass
class Forecast:
    """Outputs each resource will offer (pending text where only the key is known), secret output keys,
    the resources whose keys are unknown until they run, and every problem the deploy would hit."""

    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    secret_keys: dict[str, frozenset[str]] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)
    problems: list[ScoreProblem] = field(default_factory=list)


def _pending(name: str, key: str) -> str:
    return PENDING.format(f"resources.{name}.{key}")


def _substituted(value: Any, values: Values, location: Location, problems: list[str | Any]) -> Any:
    """`value` with placeholders resolved; unresolvable ones are reported as (location, message)."""
    if isinstance(value, str):
        try:
            return values.resolve(value)[0]
        except PlaceholderError as exc:
            problems.append((tuple(location), str(exc)))
            return value
    if isinstance(value, Mapping):
        return {key: _substituted(sub, values, (*location, str(key)), problems) for key, sub in value.items()}
    if isinstance(value, list):
        return [_substituted(sub, values, (*location, index), problems) for index, sub in enumerate(value)]
    return value


def _runs(step: StepDefinition, context: Mapping[str, Any]) -> bool:
    """Whether the step's `if`/`unless` let it run (as the inline runner decides)."""
    for expression, wanted in ((step.if_expr, True), (step.unless_expr, False)):
        if expression is not None and parse_condition(expression).evaluate(context) != wanted:
            return False
    return True


class _Forecaster:
    def __init__(self, application: Application, result: IngestResult, registry: ProviderRegistry) -> None:
        self.application = application
        self.result = result
        self.registry = registry
        self.environment = effective_environment(result.extensions)
        self.found = Forecast()

    def problem(self, location: Location, code: str, message: str) -> None:
        self.found.problems.append(
            ScoreProblem.at(location, code=code, message=message, lines=self.result.lines)
        )

    def values(self) -> Values:
        return Values(
            self.result.spec["metadata"],
            self.found.outputs,
            self.found.secret_keys,
            open_resources=self.found.open,
        )

    def resource(self, change: reconcile.ResourceChange) -> None:
        name, instance = change.name, change.instance
        try:
            capability = self.registry.provider_for(instance.resource_type).capability(instance.resource_type)
        except UnknownResourceType as exc:
            self.problem(("resources", name, "type"), "provider-missing", str(exc))
            self.found.open.add(name)
            return
        self.found.secret_keys[name] = capability.secret_outputs
        current = instance_values(instance)
        if change.action == reconcile.KEEP and instance.state in READABLE_STATES:
            self.found.outputs[name] = current
            return
        if capability.kind != "native":
            # Someone else provisions it and reports the outputs: only the declared keys are known.
            if not capability.outputs:
                self.found.open.add(name)
            self.found.outputs[name] = {
                key: current.get(key, _pending(name, key)) for key in capability.outputs
            }
            return
        operation = reconcile.UPDATE if change.action == reconcile.UPDATE else reconcile.CREATE
        try:
            route = self.registry.route(instance.resource_type, operation, instance.resource_class)
        except LookupError as exc:
            self.problem(("resources", name, "type"), "provider-workflow-missing", str(exc))
            self.found.open.add(name)
            return
        errors: list[Any] = []
        declared = _substituted(instance.params or {}, self.values(), ("resources", name, "params"), errors)
        for location, message in errors:
            self.problem(location, "placeholder-unresolvable", message)
        generated = {
            key: value for key, value in stored_secrets(instance).items() if key in capability.generate
        }
        offered = provision_parameters(
            instance,
            generated=generated,
            previous={},
            declared=dict(declared),
            owner_spec=self.result.spec,
            environment=self.environment,
            team_id=self.application.team_id,
        )
        outputs = self.outputs(name, route.workflow.definition, offered)
        if outputs is None:
            self.found.open.add(name)
            outputs = {}
        # What `${resources.<name>.<key>}` reads after the run: outputs plus stored secrets (generated ones).
        self.found.outputs[name] = {**outputs, **generated}

    def parameters(
        self, name: str, definition: WorkflowDefinition, offered: Mapping[str, Any]
    ) -> dict[str, Any]:
        accepted = {spec.name: offered[spec.name] for spec in definition.parameters if spec.name in offered}
        try:
            return validate_parameters(definition.parameters, accepted)
        except ParameterError as exc:
            for problem in exc.problems:
                parameter = problem.path.partition(".")[2]
                if PENDING_MARK in str(accepted.get(parameter, "")):
                    continue  # its value is only known once another resource ran
                self.problem(
                    ("resources", name, "params", parameter),
                    "provider-parameter",
                    f"{definition.name}: {problem}",
                )
        return {spec.name: accepted.get(spec.name, spec.default) for spec in definition.parameters}

    def outputs(
        self, name: str, definition: WorkflowDefinition, offered: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The outputs the workflow will return (pending where a step decides); None when even the
        keys are unknown."""
        context = make_context(parameters=self.parameters(name, definition, offered))
        variables: dict[str, Any] = {}
        for key, template in definition.variables.items():
            try:
                variables[key] = render_value(template, {**context, "variables": variables})
            except TemplateError:
                variables[key] = PENDING.format(f"variables.{key}")
        context["variables"] = variables
        self.guards(name, definition, context)
        outputs: dict[str, Any] = {}
        for key, template in definition.outputs.items():
            try:
                value = render(str(template), context) if template is not None else ""
            except TemplateError:
                value = _pending(name, key)
            if key != MERGED_OUTPUTS:
                outputs[key] = _pending(name, key) if PENDING_MARK in value else value
                continue
            try:
                merged = json.loads(value)
            except ValueError:
                return None
            if not isinstance(merged, dict):
                return None
            outputs.update({str(k): v for k, v in merged.items()})
        return outputs

    def guards(self, name: str, definition: WorkflowDefinition, context: dict[str, Any]) -> None:
        """Run the workflow's checks that need nothing but parameters and variables: `noop` steps with a
        `fail` message (e.g. "workload 'x' is not an application with service ports")."""
        for step in definition.steps:
            if step.type != "noop" or not step.config.get("fail") or step.when != "on_success":
                continue
            try:
                if not _runs(step, context):
                    continue
                fail = render_value(step.config["fail"], context)
            except (TemplateError, ConditionEvaluationError, ConditionSyntaxError):
                continue  # it needs what only the run knows
            if fail and PENDING_MARK not in str(fail):
                message = fail if isinstance(fail, str) else "the provider's check fails"
                self.problem(
                    ("resources", name),
                    "provider-check-failed",
                    f"{definition.name}: step '{step.name}' would fail: {message}",
                )


def forecast(
    application: Application,
    changes: list[reconcile.ResourceChange],
    result: IngestResult,
    registry: ProviderRegistry,
) -> Forecast:
    """The outputs and problems of deploying `result` with `changes` (in dependency order)."""
    forecaster = _Forecaster(application, result, registry)
    for change in changes:
        if change.action != reconcile.DELETE:
            forecaster.resource(change)
    values = forecaster.values()
    for location, text in _container_strings(result.spec):
        try:
            values.resolve(text)
        except PlaceholderError as exc:
            forecaster.problem(location, "placeholder-unresolvable", str(exc))
    return forecaster.found


def _container_strings(spec: Mapping[str, Any]) -> list[tuple[Location, str]]:
    found = []
    for location, text in iter_substitutable(spec):
        if location[0] != "containers":
            continue
        if location[2] == "files" and location[-1] == "source":
            continue
        found.append((location, text))
    return found
