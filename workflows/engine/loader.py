"""Load and fully validate a workflow document (YAML text or a dict) into a WorkflowDefinition.

Accepts the original's shapes unchanged: an `apiVersion/kind/metadata/spec` wrapper, step
settings under `config:` or at the step's top level, `type: policy` (alias of `script`),
parameters as a list or a mapping, Go-style templates. Every problem is collected and raised
together in one WorkflowValidationError before anything runs.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .durations import parse_duration
from .errors import Problem, WorkflowValidationError, did_you_mean
from .legacy import IGNORED_SPEC_KEYS, IGNORED_TOP_LEVEL_KEYS, ignored_keys_warning
from .model import ParameterSpec, StepDefinition, WorkflowDefinition
from .parameters import parse_parameter_specs
from .planning import validate_dag
from .references import check_references
from .step_parser import SCALARS, StepParser, text
from .yamlsafe import YamlProblem, load_documents, to_jsonable

MAX_STEPS = 500
# Executions store the workflow's name in a column of this size.
MAX_NAME_LENGTH = 200
TOP_LEVEL_KEYS = {"apiVersion", "kind", "metadata", "spec", "name", "description"}
SECTIONS = ("parameters", "variables", "steps", "outputs", "timeout")


def _section(
    doc: Mapping[str, Any], spec: Mapping[str, Any] | None, key: str, problems: list[Problem]
) -> tuple[Any, str]:
    if spec is not None and key in spec:
        if key in doc:
            problems.append(
                Problem(
                    f"spec.{key}",
                    f"'{key}' is defined both at the top level and under spec",
                    "conflicting_keys",
                )
            )
        return spec[key], f"spec.{key}"
    return doc.get(key), key


def _build(
    doc: Any,
    known_step_types: Collection[str],
    name: str | None,
    extra_parameters: Sequence[ParameterSpec],
    problems: list[Problem],
    implicit_parameters: Sequence[ParameterSpec] = (),
) -> WorkflowDefinition | None:
    if not isinstance(doc, Mapping):
        problems.append(Problem("", "a workflow must be a mapping with steps", "invalid_type"))
        return None
    allowed = TOP_LEVEL_KEYS | set(SECTIONS)
    warnings: list[str] = []
    ignored = sorted(str(key) for key in doc if key in IGNORED_TOP_LEVEL_KEYS and key not in allowed)
    if ignored:
        warnings.append(ignored_keys_warning("top level", ignored))
    for key in doc:
        if key not in allowed and key not in IGNORED_TOP_LEVEL_KEYS:
            problems.append(
                Problem(
                    str(key),
                    f"unknown top-level key '{key}'",
                    "unknown_field",
                    did_you_mean(str(key), allowed),
                )
            )
    spec = doc.get("spec")
    if spec is not None and not isinstance(spec, Mapping):
        problems.append(Problem("spec", "spec must be a mapping", "invalid_type"))
        spec = None
    ignored = sorted(str(key) for key in spec or {} if key in IGNORED_SPEC_KEYS)
    if ignored:
        warnings.append(ignored_keys_warning("spec", ignored))
    for key in spec or {}:
        if key not in SECTIONS and key not in IGNORED_SPEC_KEYS:
            problems.append(
                Problem(
                    f"spec.{key}",
                    f"unknown key '{key}' under spec",
                    "unknown_field",
                    did_you_mean(str(key), SECTIONS),
                )
            )
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        problems.append(Problem("metadata", "metadata must be a mapping", "invalid_type"))
        metadata = {}
    workflow_name = name or metadata.get("name") or doc.get("name")
    if not isinstance(workflow_name, str) or not workflow_name:
        problems.append(Problem("metadata.name", "the workflow needs a name", "missing_name"))
        workflow_name = ""
    elif len(workflow_name) > MAX_NAME_LENGTH:
        message = f"a workflow name has at most {MAX_NAME_LENGTH} characters"
        problems.append(Problem("metadata.name", message, "too_long"))

    raw_params, params_path = _section(doc, spec, "parameters", problems)
    parameters, param_problems = parse_parameter_specs(raw_params, params_path)
    problems.extend(param_problems)
    overrides = {item.name for item in extra_parameters}
    parameters = (*(p for p in parameters if p.name not in overrides), *extra_parameters)
    declared = {p.name for p in parameters}
    parameters = (*parameters, *(p for p in implicit_parameters if p.name not in declared))

    variables, variables_path = _section(doc, spec, "variables", problems)
    if variables is not None and not isinstance(variables, Mapping):
        problems.append(Problem(variables_path, "variables must be a mapping", "invalid_type"))
        variables = None
    outputs, outputs_path = _section(doc, spec, "outputs", problems)
    if outputs is not None and not (
        isinstance(outputs, Mapping) and all(isinstance(v, SCALARS) for v in outputs.values())
    ):
        problems.append(Problem(outputs_path, "outputs must map names to templates", "invalid_type"))
        outputs = None
    timeout_raw, timeout_path = _section(doc, spec, "timeout", problems)
    timeout = None
    if timeout_raw is not None:
        try:
            timeout = parse_duration(timeout_raw)
        except ValueError as exc:
            problems.append(Problem(timeout_path, str(exc), "invalid_duration", "use e.g. 30m or 2h"))

    raw_steps, steps_path = _section(doc, spec, "steps", problems)
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append(Problem(steps_path, "a workflow needs a non-empty list of steps", "missing_steps"))
        raw_steps = []
    if len(raw_steps) > MAX_STEPS:
        problems.append(Problem(steps_path, f"a workflow may have at most {MAX_STEPS} steps", "too_large"))
        raw_steps = []
    steps: list[StepDefinition] = []
    step_paths: list[str] = []
    lifted: dict[str, set[str]] = {}
    for index, raw in enumerate(raw_steps):
        path = f"{steps_path}[{index}]"
        if not isinstance(raw, Mapping):
            problems.append(Problem(path, "a step must be a mapping", "invalid_type"))
            continue
        parser = StepParser(raw, path, known_step_types, problems)
        step = parser.parse()
        if step is not None:
            steps.append(step)
            step_paths.append(path)
            lifted[step.name] = parser.lifted

    defn = WorkflowDefinition(
        name=workflow_name,
        description=text(metadata.get("description") or doc.get("description")),
        metadata=copy.deepcopy(dict(metadata)),
        parameters=tuple(parameters),
        variables=copy.deepcopy(dict(variables or {})),
        steps=tuple(steps),
        outputs={str(key): text(value) for key, value in (outputs or {}).items()},
        timeout=timeout,
        warnings=tuple(warnings),
    )
    problems.extend(validate_dag(defn, step_paths))
    problems.extend(check_references(defn, step_paths, lifted, outputs_path, variables_path))
    return defn


def _documents(source: str | bytes | Mapping[str, Any]) -> list[Any]:
    try:
        if isinstance(source, Mapping):
            # Dicts get the same JSON-safety as YAML text: the definition is snapshotted as JSON.
            return [to_jsonable(source)]
        return load_documents(source)
    except RecursionError:
        raise WorkflowValidationError(
            [Problem("", "document is nested too deeply", "invalid_type")]
        ) from None
    except YamlProblem as exc:
        where = f"line {exc.line}" if exc.line else ""
        raise WorkflowValidationError([Problem(where, exc.message, exc.code)]) from exc


def load_workflow(
    source: str | bytes | Mapping[str, Any],
    *,
    known_step_types: Collection[str],
    name: str | None = None,
    parameters: Sequence[ParameterSpec] = (),
    implicit_parameters: Sequence[ParameterSpec] = (),
) -> WorkflowDefinition:
    """Parse and validate one workflow; raise WorkflowValidationError listing every problem.

    `name` overrides the document's metadata.name (the caller's registered name, e.g. a golden
    path key). `parameters` adds specs declared outside the file (goldenpaths.yaml); they win
    over same-named specs in the file. `implicit_parameters` are added only where the file does not
    declare them (the inputs the original always passed to provider workflows).
    """
    documents = _documents(source)
    if len(documents) != 1:
        found = f"{len(documents)} documents" if documents else "an empty document"
        raise WorkflowValidationError(
            [
                Problem(
                    "",
                    f"expected one workflow but found {found}",
                    "invalid_type",
                    "use load_workflows for multi-document files",
                )
            ]
        )
    problems: list[Problem] = []
    defn = _build(documents[0], known_step_types, name, parameters, problems, implicit_parameters)
    if problems or defn is None:
        raise WorkflowValidationError(problems)
    return defn


def load_workflows(source: str | bytes, *, known_step_types: Collection[str]) -> list[WorkflowDefinition]:
    """Load every workflow of a multi-document YAML file; problem paths start with `documents[i]`."""
    problems: list[Problem] = []
    result: list[WorkflowDefinition] = []
    for index, document in enumerate(_documents(source)):
        found: list[Problem] = []
        defn = _build(document, known_step_types, None, (), found)
        problems.extend(
            Problem(f"documents[{index}].{p.path}".rstrip("."), p.message, p.code, p.suggestion)
            for p in found
        )
        if defn is not None and not found:
            result.append(defn)
    if problems:
        raise WorkflowValidationError(problems)
    return result
