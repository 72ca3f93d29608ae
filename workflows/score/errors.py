"""Problems found in a Score submission, and the error that carries all of them at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Location = Sequence[str | int]


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


def sort_problems(problems: Iterable[ScoreProblem]) -> list[ScoreProblem]:
    """Order problems as a reader meets them: by line, then by location."""
    return sorted(problems, key=lambda p: (p.line or 0, p.pointer, p.code, p.message))


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
