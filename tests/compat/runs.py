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


def submit_score(path: Path, user: Any) -> tuple[str, str, list[dict[str, str]]]:
    """(dry-run reason, deploy reason, warnings) of one Score spec submitted as `user`."""
    from workflows.score import ScoreValidationError
    from workflows.services import submit_spec

    text = path.read_text(encoding="utf-8")
    try:
        preview = submit_spec(text=text, content_type="application/yaml", user=user, dry_run=True)
    except ScoreValidationError as exc:
        reason = "; ".join(f"{p.pointer}: {p.message}" for p in exc.problems[:3])
        return reason, reason, []
    warnings = list(preview.plan.warnings)
    result = submit_spec(text=text, content_type="application/yaml", user=user)
    if result.execution is None:
        return "", "no deploy execution was started", warnings
    return "", _execution_reason(result.execution), warnings


def run_workflow(path: Path) -> str:
    """Launch every workflow of a file (parameters: their defaults) and report the first failure."""
    from workflows.engine.errors import WorkflowValidationError
    from workflows.services import executions

    try:
        definitions = load_definitions(path)
    except WorkflowValidationError as exc:
        return f"does not load: {exc.problems[0].message}"
    reasons = []
    for definition in definitions:
        values = {
            spec.name: spec.default if spec.default is not None else f"compat-{spec.name}".replace("_", "-")
            for spec in definition.parameters  # type: ignore[attr-defined]
            if spec.required or spec.default is not None
        }
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
