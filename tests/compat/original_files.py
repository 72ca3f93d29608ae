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


def _document(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None


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


def try_workflow(path: Path) -> str:
    from workflows.engine.errors import WorkflowValidationError
    from workflows.engine.loader import load_workflow
    from workflows.steps.registry import known_step_types

    try:
        load_workflow(path.read_bytes(), known_step_types=known_step_types())
    except WorkflowValidationError as exc:
        return "; ".join(f"{p.path}: {p.message}" for p in exc.problems[:3])
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
