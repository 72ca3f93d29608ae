"""Classify every file of the original innominatus (../shared/original-innominatus) and try it.

Each `try_*` returns "" when the file is accepted, or the reason it is refused (the first line of
the problem innominatus reports). The test module asserts the exact list of expected refusals.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ORIGINAL = Path(os.environ.get("ORIGINAL_INNOMINATUS", "/work/shared/original-innominatus"))
REPO = Path(__file__).resolve().parents[2]


def relative(path: Path) -> str:
    return str(path.relative_to(ORIGINAL))


def _documents(path: Path) -> list[object]:
    try:
        return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError:
        return []


def _document(path: Path) -> object:
    documents = _documents(path)
    return documents[0] if documents else None


def category(path: Path) -> str:
    """What kind of file the original read this as (or `other` for docs, Go sources, kubeconfigs)."""
    name = path.name
    if path.suffix not in (".yaml", ".yml"):
        return "other"
    if name == "goldenpaths.yaml":
        return "goldenpaths"
    if name == "admin-config.yaml":
        return "admin-config"
    if name == "provider.yaml":
        return "provider"
    document = _document(path)
    if not isinstance(document, dict):
        return "workflow" if "workflows" in path.parts else "other"
    if str(document.get("apiVersion", "")).startswith("score.dev"):
        return "score"
    if document.get("kind") == "Platform":
        return "platform"
    if "steps" in document or "steps" in (document.get("spec") or {}) or "workflows" in path.parts:
        return "workflow"
    return "other"


def files(kind: str) -> list[Path]:
    return sorted(p for p in ORIGINAL.rglob("*") if p.is_file() and category(p) == kind)


def provider_types() -> set[str]:
    """Every resource type the original's providers declare (what a migrated registry knows)."""
    found: set[str] = set()
    for path in files("provider"):
        document = _document(path)
        capabilities = (document or {}).get("capabilities") if isinstance(document, dict) else None
        if isinstance(capabilities, dict):
            found.update(str(t) for t in capabilities.get("resourceTypes") or [])
            for entry in capabilities.get("resourceTypeCapabilities") or []:
                if isinstance(entry, dict) and entry.get("type"):
                    found.add(str(entry["type"]))
    return found


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__


def try_score(path: Path) -> str:
    from workflows.score import BUILTIN_RESOURCE_TYPES, ScoreValidationError, ingest

    try:
        ingest(path.read_bytes(), known_types=BUILTIN_RESOURCE_TYPES | provider_types())
    except ScoreValidationError as exc:
        problems = exc.problems
        return "; ".join(f"{p.pointer}: {p.message}" for p in problems[:3])
    return ""


def load_definitions(path: Path) -> list[object]:
    """The workflow(s) of a file as innominatus loads them (raises WorkflowValidationError).

    Provider workflows get the inputs the original always passed; a workflow without a name is
    named after its file (the original registered workflows by golden path key or file name).
    """
    from workflows.engine.errors import Problem, WorkflowValidationError
    from workflows.engine.legacy import PROVIDER_INPUTS
    from workflows.engine.loader import load_workflow, load_workflows
    from workflows.steps.registry import config_problems, known_step_types

    text = path.read_text(encoding="utf-8")
    documents = _documents(path)
    if len(documents) > 1:
        definitions = load_workflows(text, known_step_types=known_step_types())
    else:
        document = documents[0] if documents else {}
        named = isinstance(document, dict) and (document.get("metadata") or {}).get("name")
        definitions = [
            load_workflow(
                text,
                known_step_types=known_step_types(),
                name=None if named else path.stem,
                implicit_parameters=PROVIDER_INPUTS if "providers" in path.parts else (),
            )
        ]
    wrong = [p for d in definitions for p in config_problems(d)]
    if wrong:
        raise WorkflowValidationError([Problem("", p, "invalid_config") for p in wrong])
    return definitions


def try_workflow(path: Path) -> str:
    from workflows.engine.errors import WorkflowValidationError

    try:
        load_definitions(path)
    except WorkflowValidationError as exc:
        return "; ".join(f"{p.path}: {p.message}".lstrip(": ") for p in exc.problems[:3])
    return ""


def try_provider(path: Path) -> str:
    from workflows.providers.loader import load_provider
    from workflows.providers.model import ProviderError

    try:
        load_provider(path.parent)
    except ProviderError as exc:
        return first_line(exc)
    return ""


def try_goldenpaths(path: Path) -> str:
    from django.core.exceptions import ImproperlyConfigured

    from workflows.engine.errors import WorkflowValidationError
    from workflows.goldenpaths.catalog import load_catalog_file

    try:
        paths = load_catalog_file(path)
    except (ImproperlyConfigured, WorkflowValidationError, ValueError) as exc:
        return first_line(exc)
    if not paths:
        return "no golden paths listed"
    return ""


def try_admin_config(path: Path) -> str:
    """Start the server's checks (`manage.py check`) with ADMIN_CONFIG pointing at the file."""
    env = {**os.environ, "ADMIN_CONFIG": str(path)}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode == 0:
        return ""
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exit status {done.returncode}"
