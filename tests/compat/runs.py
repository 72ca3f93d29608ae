"""Run the original's files through the database-backed services (render-only: no cluster configured).

Each function returns {relative path: ""} for a file that ran to completion, or the reason it did
not (the failed step and its error), so the test can assert the exact list with citations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.compat.original_files import load_definitions, relative


def _execution_reason(execution: Any) -> str:
    from workflows.choices import ExecutionStatus

    execution.refresh_from_db()
    if execution.status == ExecutionStatus.COMPLETED:
        return ""
    failed = [s for s in execution.steps.all() if s.status == "failed"]
    if failed:
        step = failed[0]
        return f"{execution.status}: step {step.name} ({step.step_type}): {(step.error_message or '')[:200]}"
    return f"{execution.status}: {(execution.error_message or '')[:200]}"


def _problems(exc: Any) -> str:
    return "; ".join(f"{p.pointer}: {p.message}" for p in exc.problems[:3])


def dry_run_score(path: Path, user: Any) -> str:
    """The reason a dry run of the spec is refused, or ""."""
    from workflows.score import ScoreValidationError
    from workflows.services import submit_spec

    try:
        submit_spec(
            text=path.read_text(encoding="utf-8"), content_type="application/yaml", user=user, dry_run=True
        )
    except ScoreValidationError as exc:
        return _problems(exc)
    return ""


def deploy_score(path: Path, user: Any) -> str:
    """Submit the spec and run its deploy execution (render-only: no cluster); its failure, or ""."""
    from workflows.score import ScoreValidationError
    from workflows.services import submit_spec

    try:
        result = submit_spec(
            text=path.read_text(encoding="utf-8"), content_type="application/yaml", user=user
        )
    except ScoreValidationError as exc:
        return "refused: " + _problems(exc)
    if result.execution is None:
        return "no deploy execution was started"
    return _execution_reason(result.execution)


RUN_TIMEOUT = 10.0


def run_workflow(path: Path) -> str:
    """Launch every workflow of a file (parameters: their defaults) and report the failures.

    Each run is limited to RUN_TIMEOUT seconds: the original's provider scripts poll outside systems
    (a cluster, Vault, Gitea) for minutes before they give up.
    """
    from dataclasses import replace

    from workflows.engine.errors import WorkflowValidationError
    from workflows.services import executions

    try:
        definitions = load_definitions(path)
    except WorkflowValidationError as exc:
        return f"does not load: {exc.problems[0].message}"
    reasons = []
    for definition in definitions:
        # What a caller passes: the defaults, and a name-like value for every string without one
        # (provider workflows get app_name, resource_name, namespace … from the provision step).
        values = {
            spec.name: f"compat-{spec.name}".replace("_", "-")
            for spec in definition.parameters  # type: ignore[attr-defined]
            if spec.default is None and (spec.required or spec.type == "string")
        }
        limited = tuple(
            replace(step, timeout=min(step.timeout or RUN_TIMEOUT, RUN_TIMEOUT))
            for step in definition.steps  # type: ignore[attr-defined]
        )
        definition = replace(definition, steps=limited)  # type: ignore[type-var]
        try:
            execution = executions.launch_execution(
                definition=definition, app_name="compat", parameters=values
            )
        except Exception as exc:
            reasons.append(f"{type(exc).__name__}: {exc}"[:200])
            continue
        reason = _execution_reason(execution)
        if reason:
            reasons.append(reason)
    return "; ".join(reasons)


def run_all(paths: list[Path], run: Any) -> dict[str, str]:
    return {relative(path): run(path) for path in paths}
