"""Problems found in a Score submission, and the error that carries all of them at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

Location = Sequence[str | int]

# Enough to fix a spec by; a hostile document must not turn into a megabyte of error response.
MAX_PROBLEMS = 100


def to_pointer(location: Location) -> str:
    """Render a location as an RFC 6901 JSON Pointer (``""`` is the whole document)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def to_dotted(location: Location) -> str:
    """Render a location for people: ``containers.main.files./etc/x.content``, ``files[0]``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def line_for(lines: Mapping[str, int], pointer: str) -> int | None:
    """Source line of the closest located ancestor of ``pointer`` (JSON input has none)."""
    while True:
        if pointer in lines:
            return lines[pointer]
        if not pointer:
            return None
        pointer = pointer[: pointer.rfind("/")]


@dataclass(frozen=True, slots=True)
class ScoreProblem:
    """One problem in a submission: where (pointer + dotted path + line), what, and a stable code."""

    pointer: str
    path: str
    message: str
    code: str
    line: int | None = None

    @classmethod
    def at(
        cls,
        location: Location,
        *,
        code: str,
        message: str,
        lines: Mapping[str, int] | None = None,
        line: int | None = None,
    ) -> ScoreProblem:
        """Build a problem from a location; the line comes from ``line`` or the document's line map."""
        pointer = to_pointer(location)
        if line is None and lines is not None:
            line = line_for(lines, pointer)
        return cls(pointer=pointer, path=to_dotted(location), message=message, code=code, line=line)

    def is_within(self, pointer: str) -> bool:
        """True when this problem sits at ``pointer`` or below it."""
        return self.pointer == pointer or self.pointer.startswith(pointer + "/")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for problem+json ``errors`` members."""
        return {
            "pointer": self.pointer,
            "path": self.path,
            "message": self.message,
            "code": self.code,
            "line": self.line,
        }

    def __str__(self) -> str:
        where = self.path or "(document)"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.message}"


def describe(value: Any) -> str:
    """What kind of JSON value this is, in words: "a mapping", "a list", "an integer", ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int):
        return "an integer"
    return "a number" if isinstance(value, float) else "null (an empty value)"


def refuse(code: str, message: str, *, location: Location = (), line: int | None = None) -> NoReturn:
    """Raise a ScoreValidationError for a single problem that stops all further checking."""
    raise ScoreValidationError([ScoreProblem.at(location, code=code, message=message, line=line)])


def sort_problems(problems: Iterable[ScoreProblem]) -> list[ScoreProblem]:
    """Distinct problems in the order a reader meets them (line, then location), at most MAX_PROBLEMS.

    When there are more, the list ends with one ``too-many-problems`` entry saying how many.
    """
    ordered = sorted(set(problems), key=lambda p: (p.line or 0, p.pointer, p.code, p.message))
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    hidden = len(ordered) - MAX_PROBLEMS
    more = ScoreProblem.at((), code="too-many-problems", message=f"{hidden} more problems are not listed")
    return [*ordered[:MAX_PROBLEMS], more]


class ScoreValidationError(ValueError):
    """A submission was refused; ``problems`` lists every reason, never just the first."""

    def __init__(self, problems: Iterable[ScoreProblem]) -> None:
        self.problems: list[ScoreProblem] = list(problems)
        if not self.problems:
            raise ValueError("ScoreValidationError needs at least one problem")
        count = len(self.problems)
        summary = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {count - 5} more)" if count > 5 else ""
        super().__init__(f"invalid Score spec, {count} problem(s): {summary}{more}")

    def as_list(self) -> list[dict[str, Any]]:
        """JSON-ready list of the problems."""
        return [p.as_dict() for p in self.problems]
