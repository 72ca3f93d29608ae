"""The Score `workflows:` section (the original innominatus's extension): validated at submission and
run as part of the deploy execution, after provisioning and the workload deploy.

The original ran a spec's workflows after provisioning its resources. innominatus appends their
steps to the generated deploy workflow (each workflow in file order; its first steps wait for the
`deploy` step), so they run in the same execution, with the same logs, approvals and retries.
A step name must not collide with the generated steps (`provision-*`, `deploy`, `deprovision-*`)
or with a step of another of the spec's workflows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.engine.errors import WorkflowValidationError
from workflows.engine.loader import load_workflow
from workflows.score import ScoreProblem
from workflows.steps.registry import config_problems, known_step_types

RESERVED_PREFIXES = ("provision-", "deprovision-")
RESERVED_NAMES = ("deploy",)


def _workflows(extensions: Mapping[str, Any]) -> Mapping[str, Any]:
    section = extensions.get("workflows")
    return section if isinstance(section, Mapping) else {}


def score_workflow_problems(extensions: Mapping[str, Any]) -> list[ScoreProblem]:
    """Every problem of the spec's `workflows:` section, located under /workflows/<name>."""
    section = extensions.get("workflows")
    if section is None:
        return []
    if not isinstance(section, Mapping):
        return [
            ScoreProblem.at(
                ("workflows",), code="wrong-type", message="workflows must map names to workflows"
            )
        ]
    problems: list[ScoreProblem] = []
    seen: dict[str, str] = {}
    for name, document in section.items():
        where: tuple[str | int, ...] = ("workflows", str(name))
        if not isinstance(document, Mapping):
            problems.append(ScoreProblem.at(where, code="wrong-type", message="a workflow must be a mapping"))
            continue
        try:
            definition = load_workflow(dict(document), known_step_types=known_step_types(), name=str(name))
        except WorkflowValidationError as exc:
            problems.extend(
                ScoreProblem.at(where, code="invalid-workflow", message=f"{p.path}: {p.message}".lstrip(": "))
                for p in exc.problems
            )
            continue
        problems.extend(
            ScoreProblem.at(where, code="invalid-step-config", message=text)
            for text in config_problems(definition)
        )
        if definition.parameters:
            message = "parameters are not supported here (the deploy passes none); use variables"
            problems.append(ScoreProblem.at((*where, "parameters"), code="not-supported", message=message))
        for step in definition.steps:
            if step.name in RESERVED_NAMES or step.name.startswith(RESERVED_PREFIXES):
                message = f"step name {step.name!r} is reserved for the generated deploy steps; rename it"
                problems.append(ScoreProblem.at(where, code="reserved-step-name", message=message))
            elif step.name in seen:
                message = f"step name {step.name!r} is also used in workflow {seen[step.name]!r}"
                problems.append(ScoreProblem.at(where, code="duplicate-step-name", message=message))
            seen[step.name] = str(name)
    return problems


def score_workflow_variables(extensions: Mapping[str, Any]) -> dict[str, Any]:
    """The variables the spec's workflows declare (one namespace, as they run in one execution)."""
    found: dict[str, Any] = {}
    for document in _workflows(extensions).values():
        if isinstance(document, Mapping):
            spec = document.get("spec")
            body: Mapping[str, Any] = spec if isinstance(spec, Mapping) else document
            found.update(body.get("variables") or {})
    return found


def score_workflow_steps(extensions: Mapping[str, Any], after: str) -> list[dict[str, Any]]:
    """The steps to append to the deploy workflow: each workflow's steps, the first ones after `after`."""
    steps: list[dict[str, Any]] = []
    for document in _workflows(extensions).values():
        raw_steps = document.get("steps") if isinstance(document, Mapping) else None
        if isinstance(document, Mapping) and isinstance(document.get("spec"), Mapping):
            raw_steps = document["spec"].get("steps")
        for index, raw in enumerate(raw_steps or []):
            step = dict(raw)
            if index == 0 and not step.get("dependsOn") and not step.get("depends_on"):
                step["dependsOn"] = [after]
            steps.append(step)
    return steps
