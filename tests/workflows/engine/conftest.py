"""Fixtures for the workflow engine tests: a loader bound to a realistic set of step types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from workflows.engine import WorkflowDefinition, WorkflowValidationError, load_workflow

STEP_TYPES = frozenset(
    {"kubernetes", "deploy", "script", "terraform", "http", "git", "approval", "noop", "sleep", "validation"}
)


@pytest.fixture
def load() -> Callable[..., WorkflowDefinition]:
    """Load a workflow (YAML text or dict) with the standard step types."""

    def _load(source: Any, **kwargs: Any) -> WorkflowDefinition:
        return load_workflow(source, known_step_types=STEP_TYPES, **kwargs)

    return _load


@pytest.fixture
def problems() -> Callable[..., list[Any]]:
    """Load a workflow that must be invalid and return its problems."""

    def _problems(source: Any, **kwargs: Any) -> list[Any]:
        with pytest.raises(WorkflowValidationError) as caught:
            load_workflow(source, known_step_types=STEP_TYPES, **kwargs)
        return caught.value.problems

    return _problems
