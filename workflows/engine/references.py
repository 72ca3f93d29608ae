"""Validation-time checks of every name that templates and conditions read.

Top-level names must be context namespaces; `parameters.X` must be declared; `variables.X`
declared in `variables` or set by some step's `setVariables`; `steps.X` must exist and — for a
step — run before the reader (be upstream), and `steps.X.<attr>` must be status/outputs/output.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .conditions import parse_condition
from .errors import ConditionSyntaxError, Problem, TemplateSyntaxError, did_you_mean
from .model import WorkflowDefinition
from .planning import effective_dependencies
from .templating import NAMESPACES, STEP_ATTRIBUTES, template_references

VARIABLE_NAMESPACES = frozenset({"parameters", "app", "execution", "resources"})


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def _upstream(defn: WorkflowDefinition) -> dict[str, set[str]]:
    """Transitive dependencies of every step (cycles tolerated; they are reported elsewhere)."""
    deps = effective_dependencies(defn)
    result: dict[str, set[str]] = {}
    for name in deps:
        seen: set[str] = set()
        stack = list(deps[name])
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.add(dep)
                stack.extend(deps.get(dep, ()))
        result[name] = seen
    return result


class _Checker:
    def __init__(self, defn: WorkflowDefinition) -> None:
        self.defn = defn
        self.parameters = [spec.name for spec in defn.parameters]
        self.variables = list(
            dict.fromkeys([*defn.variables, *(v for s in defn.steps for v in s.set_variables)])
        )
        self.steps = [step.name for step in defn.steps]
        self.upstream = _upstream(defn)
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, code: str, suggestion: str | None = None) -> None:
        self.problems.append(Problem(path, message, code, suggestion))

    def reference(self, path: str, ref: tuple[str, ...], allowed: frozenset[str], reader: str | None) -> None:
        top = ref[0]
        if top not in allowed:
            hint = did_you_mean(top, allowed) or f"available names: {', '.join(sorted(allowed))}"
            self.add(path, f"unknown name '{top}'", "undefined_reference", hint)
            return
        if len(ref) < 2:
            return
        key = ref[1]
        if top == "parameters" and key not in self.parameters:
            hint = did_you_mean(key, self.parameters) or "declare it under parameters"
            self.add(path, f"parameter '{key}' is not declared", "undefined_reference", hint)
        elif top == "variables" and key not in self.variables:
            hint = (
                did_you_mean(key, self.variables) or "declare it under variables or set it with setVariables"
            )
            self.add(path, f"variable '{key}' is not declared", "undefined_reference", hint)
        elif top == "steps":
            self.step_reference(path, ref, reader)

    def step_reference(self, path: str, ref: tuple[str, ...], reader: str | None) -> None:
        target = ref[1]
        if target not in self.steps:
            hint = did_you_mean(target, self.steps) or f"steps: {', '.join(self.steps)}"
            self.add(path, f"unknown step '{target}'", "undefined_reference", hint)
            return
        if reader is not None and target == reader:
            self.add(
                path,
                f"step '{reader}' cannot read its own results here",
                "not_upstream",
                "use `outputs` instead",
            )
        elif reader is not None and target not in self.upstream.get(reader, set()):
            self.add(
                path,
                f"step '{reader}' reads steps.{target} but does not run after '{target}'",
                "not_upstream",
                f"add '{target}' to the dependsOn of '{reader}'",
            )
        if len(ref) > 2 and ref[2] not in STEP_ATTRIBUTES:
            hint = did_you_mean(ref[2], STEP_ATTRIBUTES) or "use status or outputs"
            self.add(path, f"steps.{target} has no '{ref[2]}'", "undefined_reference", hint)

    def template(self, path: str, text: str, allowed: frozenset[str], reader: str | None) -> None:
        try:
            refs = template_references(text)
        except TemplateSyntaxError as exc:
            self.add(path, exc.message, "template_syntax")
            return
        for ref in sorted(refs):
            self.reference(path, ref, allowed, reader)

    def condition(self, path: str, expression: str, reader: str) -> None:
        try:
            names = parse_condition(expression).names()
        except ConditionSyntaxError:
            return  # reported by the loader with its position
        for ref in sorted(names):
            if ref[0] == "env":
                continue  # the original's `$VAR`: the step's env over the variables; unset reads as ""
            self.reference(path, ref, NAMESPACES, reader)


def check_references(
    defn: WorkflowDefinition,
    step_paths: Sequence[str],
    lifted_keys: Mapping[str, set[str]],
    outputs_path: str = "outputs",
    variables_path: str = "variables",
) -> list[Problem]:
    """All problems with names read by templates and conditions; paths follow the source document."""
    checker = _Checker(defn)
    with_outputs = NAMESPACES | {"outputs"}
    for index, step in enumerate(defn.steps):
        base = step_paths[index] if index < len(step_paths) else f"steps[{index}]"
        lifted = lifted_keys.get(step.name, set())
        for key, value in step.config.items():
            prefix = f"{base}.{key}" if key in lifted else f"{base}.config.{key}"
            for path, text in _strings(value, prefix):
                checker.template(path, text, NAMESPACES, step.name)
        for path, text in _strings(step.env, f"{base}.env"):
            checker.template(path, text, NAMESPACES, step.name)
        for name, template in step.outputs.items():
            if template is not None:
                checker.template(f"{base}.outputs.{name}", template, with_outputs, step.name)
        for name, template in step.set_variables.items():
            checker.template(f"{base}.setVariables.{name}", template, with_outputs, step.name)
        for field, expression in (("if", step.if_expr), ("unless", step.unless_expr)):
            if expression is not None:
                checker.condition(f"{base}.{field}", expression, step.name)
    for name, template in defn.outputs.items():
        checker.template(f"{outputs_path}.{name}", template, NAMESPACES, None)
    for path, text in _strings(defn.variables, variables_path):
        checker.template(path, text, VARIABLE_NAMESPACES, None)
    return checker.problems
