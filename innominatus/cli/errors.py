"""What the command line reports instead of a traceback, and with which exit code (docs/cli.md)."""

from __future__ import annotations

from typing import Any

# Exit codes: documented in docs/cli.md; CI pipelines branch on them.
OK = 0
FAILED = 1  # the work failed: an execution failed or was cancelled, a spec has problems
USAGE = 2  # click's own code for a wrong command line
REFUSED = 3  # the server refused the request (4xx other than authentication)
AUTH = 4  # not signed in, or the credentials were rejected (401)
UNAVAILABLE = 5  # the server could not be reached or failed (5xx)
INTERRUPTED = 130


class CliError(Exception):
    """A user-facing error: a message and an exit code, never a traceback."""

    exit_code = FAILED

    def __init__(self, message: str, *, exit_code: int | None = None, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.lines = lines or []
        if exit_code is not None:
            self.exit_code = exit_code


def problem_lines(problem: dict[str, Any]) -> list[str]:
    """A problem+json body as `path: message` lines (with the YAML line where the server knows it)."""
    lines = []
    for item in problem.get("errors") or []:
        if not isinstance(item, dict):
            continue
        where = str(item.get("path") or "(document)")
        if item.get("line"):
            where += f" (line {item['line']})"
        lines.append(f"{where}: {item.get('message', '')}")
    return lines


class ApiError(CliError):
    """The server answered with an error; `problem` is its problem+json body (or a stand-in)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        if status == 401:
            code = AUTH
            detail += " (sign in with `innominatus-ctl login`, or set INNOMINATUS_TOKEN)"
        elif status >= 500:
            code = UNAVAILABLE
        else:
            code = REFUSED
        if status == 429 and problem.get("retry_after"):
            detail += f" Retry in {problem['retry_after']} s."
        super().__init__(detail, exit_code=code, lines=problem_lines(problem))
