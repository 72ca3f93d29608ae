"""Errors raised by the workflow engine, and the Problem record that validation collects."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One validation finding: where it is, what is wrong, a stable code, and how to fix it."""

    path: str
    message: str
    code: str
    suggestion: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-friendly form (the API renders these as problem+json entries)."""
        return {"path": self.path, "message": self.message, "code": self.code, "suggestion": self.suggestion}

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        return f"{text} ({self.suggestion})" if self.suggestion else text


class WorkflowValidationError(ValueError):
    """A workflow or its inputs are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(self._summary())

    def _summary(self) -> str:
        if not self.problems:
            return "invalid workflow"
        lines = [str(problem) for problem in self.problems]
        return f"{len(lines)} problem(s): " + "; ".join(lines)

    def to_list(self) -> list[dict[str, str | None]]:
        """All problems as JSON-friendly dicts."""
        return [problem.to_dict() for problem in self.problems]


class ParameterError(WorkflowValidationError):
    """Parameter values given for a run do not match the workflow's parameter specs."""


class ConditionSyntaxError(ValueError):
    """An `if`/`unless` expression cannot be parsed; `position` is the 0-based character offset."""

    def __init__(self, message: str, expression: str, position: int) -> None:
        self.message = message
        self.expression = expression
        self.position = position
        super().__init__(f"{message} at position {position} in {expression!r}")


class ConditionEvaluationError(ValueError):
    """An expression parsed but cannot be evaluated against the given context (unknown name, bad types)."""


class UnsafePatternError(ValueError):
    """A regular expression is too long or shaped for catastrophic backtracking."""


class TemplateError(ValueError):
    """Base for template problems; `path` names the value that holds the template (may be empty)."""

    def __init__(self, message: str, path: str = "") -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class TemplateRenderError(TemplateError):
    """A template failed while rendering (undefined name, sandbox violation, size limit)."""


class TemplateSyntaxError(TemplateRenderError):
    """A template does not parse or uses a construct the sandbox forbids (also raised by render)."""


class StepOutputError(ValueError):
    """A step's declared outputs cannot be produced from what the step returned."""

    def __init__(self, message: str, path: str = "") -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """Return "did you mean 'x'?" for the closest candidate, or None when nothing is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None
