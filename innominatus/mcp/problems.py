"""A refused MCP tool call, in the shape of the API's RFC 7807 problem (status, detail, errors)."""

from __future__ import annotations

from typing import Any

from innominatus.mcp.dispatch import ApiAnswer


class ToolProblem(Exception):
    """A refused tool call: the API's problem (status, detail, errors with paths)."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "errors": self.errors}


def problem_from(answer: ApiAnswer) -> ToolProblem:
    """The API's problem+json answer as a ToolProblem (path and message of every problem)."""
    body = answer.data if isinstance(answer.data, dict) else {}
    detail = str(body.get("detail") or body.get("title") or f"The API answered {answer.status}.")
    errors = [
        {k: v for k, v in error.items() if k in ("path", "message", "code", "suggestion", "choices")}
        for error in body.get("errors", []) or []
        if isinstance(error, dict)
    ]
    return ToolProblem(answer.status, detail, errors)


def ok_data(answer: ApiAnswer) -> Any:
    """The answer's body, or the API's refusal raised as a ToolProblem."""
    if not answer.ok:
        raise problem_from(answer)
    return answer.data
