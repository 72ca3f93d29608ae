"""Loading golden paths from `goldenpaths.yaml` files in the original's format."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from workflows.engine.errors import Problem, WorkflowValidationError
from workflows.engine.loader import load_workflow
from workflows.engine.model import ParameterSpec, WorkflowDefinition
from workflows.engine.parameters import parse_parameter_specs
from workflows.steps.registry import config_problems, known_step_types

BUILTIN_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class GoldenPath:
    """One catalogue entry: a workflow file plus what developers see about it."""

    name: str
    workflow: WorkflowDefinition
    description: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    estimated_duration: str = ""
    parameters: tuple[ParameterSpec, ...] = ()
    # Golden paths that create something temporary name the parameter holding its time to live.
    ttl_parameter: str | None = None
    teardown: str | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_summary(self) -> dict[str, Any]:
        """What the catalogue lists."""
        return {
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "tags": list(self.tags),
            "estimated_duration": self.estimated_duration,
            "workflow": self.workflow.name,
            "steps": len(self.workflow.steps),
            "parameters": [spec.to_dict() for spec in self.parameters],
            "ttl_parameter": self.ttl_parameter,
        }


def _merge_parameters(workflow: WorkflowDefinition, entry: dict[str, Any]) -> tuple[ParameterSpec, ...]:
    """The workflow's typed parameters, with the catalogue's required/optional lists applied on top."""
    specs = {spec.name: spec for spec in workflow.parameters}
    for name in entry.get("required_params") or []:
        base = specs.get(name, ParameterSpec(name=name))
        specs[name] = ParameterSpec(**{**base.__dict__, "required": True})
    for name, default in (entry.get("optional_params") or {}).items():
        base = specs.get(name, ParameterSpec(name=name))
        specs[name] = ParameterSpec(**{**base.__dict__, "default": default, "required": False})
    return tuple(specs.values())


def _entry(name: str, raw: Any, base_dir: Path) -> GoldenPath:
    entry = {"workflow": raw} if isinstance(raw, str) else dict(raw or {})
    workflow_file = entry.get("workflow")
    if not isinstance(workflow_file, str) or not workflow_file:
        raise WorkflowValidationError(
            [Problem(f"goldenpaths.{name}.workflow", "a workflow file is required", "required")]
        )
    path = (base_dir / workflow_file).resolve()
    if not path.is_file():
        raise WorkflowValidationError(
            [
                Problem(
                    f"goldenpaths.{name}.workflow",
                    f"workflow file {workflow_file} does not exist",
                    "missing-file",
                )
            ]
        )
    # The original's `parameters:` block (type, enum/allowed_values, pattern, default) is honoured
    # like the workflow's own declarations; it wins over same-named ones in the workflow file.
    declared, problems = parse_parameter_specs(entry.get("parameters"), f"goldenpaths.{name}.parameters")
    if problems:
        raise WorkflowValidationError(problems)
    workflow = load_workflow(
        path.read_text(), known_step_types=known_step_types(), name=name, parameters=declared
    )
    wrong = config_problems(workflow)
    if wrong:
        raise WorkflowValidationError(
            [Problem(f"goldenpaths.{name}.workflow", problem, "invalid_config") for problem in wrong]
        )
    parameters = _merge_parameters(workflow, entry)
    workflow = WorkflowDefinition(**{**workflow.__dict__, "parameters": parameters})
    return GoldenPath(
        name=name,
        workflow=workflow,
        description=str(entry.get("description") or workflow.description or ""),
        category=str(entry.get("category") or ""),
        tags=tuple(str(tag) for tag in entry.get("tags") or ()),
        estimated_duration=str(entry.get("estimated_duration") or ""),
        parameters=parameters,
        ttl_parameter=entry.get("ttl_parameter"),
        teardown=entry.get("teardown"),
        source=str(path),
    )


def load_catalog_file(path: Path) -> dict[str, GoldenPath]:
    """Every golden path in one `goldenpaths.yaml`; all problems are reported together."""
    data = yaml.safe_load(path.read_text()) or {}
    entries = data.get("goldenpaths") or {}
    paths: dict[str, GoldenPath] = {}
    problems: list[Problem] = []
    for name, raw in entries.items():
        try:
            paths[str(name)] = _entry(str(name), raw, path.parent)
        except WorkflowValidationError as exc:
            problems.extend(
                Problem(f"{path.name}: {name}: {p.path}", p.message, p.code, p.suggestion)
                for p in exc.problems
            )
    if problems:
        raise WorkflowValidationError(problems)
    return paths


@cache
def builtin_golden_paths() -> dict[str, GoldenPath]:
    """The built-in catalogue (loaded once per process)."""
    return load_catalog_file(BUILTIN_DIR / "goldenpaths.yaml")


def golden_paths() -> dict[str, GoldenPath]:
    """The built-in catalogue plus the golden-path workflows of the loaded providers."""
    from workflows.providers.registry import current_registry

    paths = dict(builtin_golden_paths())
    for provider, workflow in current_registry().golden_path_workflows():
        paths[workflow.name] = GoldenPath(
            name=workflow.name,
            workflow=workflow.definition,
            description=workflow.description,
            category=provider.category or "provider",
            tags=workflow.tags,
            parameters=workflow.definition.parameters,
            source=f"{provider.source}/{workflow.file}",
            extra={"provider": provider.name},
        )
    return paths


def get_golden_path(name: str) -> GoldenPath:
    """The golden path called `name` (KeyError when unknown)."""
    return golden_paths()[name]
