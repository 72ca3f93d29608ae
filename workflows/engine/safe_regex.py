"""Regular expressions from workflow authors, checked against catastrophic backtracking before use.

Python's `re` has no match timeout, so user patterns are screened statically instead:

* at most 256 characters, and matched only against inputs of at most 64 KiB;
* no nested quantifiers: a group that contains a repeat (`+`, `*`, `{n,}`, `{n,m}` with m > 1) may
  not itself be repeated — `(a+)+`, `(\\w*)*`, `((ab)+x)*`, `(a+){2}` are refused. The one
  exception is small bounded nesting (inner and outer counts at most 10, nothing unbounded inside),
  which cannot blow up: `(?:\\.\\d{1,3}){3}` is fine;
* no unboundedly repeated group with alternation: `(a|ab)*` backtracks exponentially when the
  branches overlap, and telling overlapping branches apart is not decidable cheaply;
* no backreferences and no conditional groups (`\\1`, `(?P=name)`, `(?(1)…)`);
* repeat counts at most 1000.

Atomic groups `(?>…)` and possessive quantifiers (`*+`, `++`, `?+`, `{n,m}+`) never backtrack into
their body, so they are the documented way to write such patterns safely: `(?>a|ab)*`, `(a+)++`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .errors import UnsafePatternError

MAX_PATTERN_LENGTH = 256
MAX_INPUT_LENGTH = 64 * 1024
MAX_REPEAT = 1000

_BRACE = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_FLAGS = re.compile(r"[aiLmsux-]+")


SMALL_REPEAT = 10


@dataclass
class _Group:
    atomic: bool = False
    repeats: bool = False
    unbounded: bool = False
    largest: int = 0
    alternation: bool = False


def _skip_class(pattern: str, i: int) -> int:
    """Index just past the character class that starts at `pattern[i] == '['`."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "^":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    if j >= len(pattern):
        raise UnsafePatternError("unterminated character class")
    return j + 1


def _open_group(pattern: str, i: int) -> tuple[int, _Group | None]:
    """Parse a group opener at `i`; return the index after its header and the group (None = comment)."""
    if not pattern.startswith("(?", i):
        return i + 1, _Group()
    rest = pattern[i + 2 : i + 4]
    if rest.startswith("P="):
        raise UnsafePatternError("backreferences are not allowed")
    if rest.startswith("("):
        raise UnsafePatternError("conditional groups are not allowed")
    if rest.startswith("#"):
        end = pattern.find(")", i)
        if end < 0:
            raise UnsafePatternError("unterminated comment group")
        return end + 1, None
    if rest.startswith(">"):
        return i + 3, _Group(atomic=True)
    if rest[:1] in (":", "=", "!"):
        return i + 3, _Group()
    if rest in ("<=", "<!"):
        return i + 4, _Group()
    if rest.startswith(("P<", "<")):
        end = pattern.find(">", i)
        if end < 0:
            raise UnsafePatternError("unterminated group name")
        return end + 1, _Group()
    flags = _FLAGS.match(pattern, i + 2)
    if flags and flags.end() < len(pattern) and pattern[flags.end()] in ":)":
        if pattern[flags.end()] == ")":
            return flags.end() + 1, None
        return flags.end() + 1, _Group()
    raise UnsafePatternError(f"unsupported group syntax at position {i}")


def _quantifier(pattern: str, i: int) -> tuple[int, int | None] | None:
    """If a quantifier starts at `i`, return (index after it, its upper bound; None = unbounded)."""
    char = pattern[i]
    if char in "*+":
        return i + 1, None
    if char == "?":
        return i + 1, 1
    if char == "{":
        match = _BRACE.match(pattern, i)
        if not match or (not match.group(1) and not match.group(2)):
            return None
        low = int(match.group(1) or 0)
        high_text = match.group(3)
        high = int(high_text) if high_text else (None if match.group(2) else low)
        if low > MAX_REPEAT or (high is not None and high > MAX_REPEAT):
            raise UnsafePatternError(f"repeat counts above {MAX_REPEAT} are not allowed")
        return match.end(), high
    return None


def _nesting_is_risky(closed: _Group, high: int | None) -> bool:
    """Whether repeating the just-closed group up to `high` times can backtrack catastrophically."""
    if closed.atomic:
        return False
    if high is None:
        return closed.repeats or closed.alternation
    return closed.unbounded or (closed.repeats and (high > SMALL_REPEAT or closed.largest > SMALL_REPEAT))


def check_pattern(pattern: str) -> None:
    """Raise UnsafePatternError if `pattern` is too long or could backtrack catastrophically."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePatternError(f"pattern is longer than {MAX_PATTERN_LENGTH} characters")
    stack: list[_Group] = [_Group()]
    closed: _Group | None = None
    i = 0
    while i < len(pattern):
        char = pattern[i]
        quantifier = _quantifier(pattern, i) if char in "*+?{" else None
        if quantifier is not None:
            i, high = quantifier
            possessive = i < len(pattern) and pattern[i] == "+"
            if i < len(pattern) and pattern[i] in "+?":
                i += 1
            if high is None or high > 1:
                enclosing = stack[-1]
                enclosing.repeats = True
                enclosing.unbounded |= high is None
                enclosing.largest = max(enclosing.largest, high or 0)
                if closed is not None and not possessive and _nesting_is_risky(closed, high):
                    raise UnsafePatternError(
                        "a repeated group may not contain another repeat or an alternation "
                        "(nested quantifiers backtrack catastrophically); use an atomic group (?>…) "
                        "or a possessive quantifier such as ++"
                    )
            closed = None
            continue
        closed = None
        if char == "\\":
            following = pattern[i + 1 : i + 2]
            if following.isdigit() and following != "0":
                raise UnsafePatternError("backreferences are not allowed")
            i += 2
        elif char == "[":
            i = _skip_class(pattern, i)
        elif char == "(":
            i, opened = _open_group(pattern, i)
            if opened is not None:
                stack.append(opened)
        elif char == ")":
            if len(stack) == 1:
                raise UnsafePatternError(f"unbalanced parenthesis at position {i}")
            closed = stack.pop()
            parent = stack[-1]
            parent.repeats |= closed.repeats
            parent.unbounded |= closed.unbounded
            parent.largest = max(parent.largest, closed.largest)
            parent.alternation |= closed.alternation
            i += 1
        else:
            if char == "|":
                stack[-1].alternation = True
            i += 1
    if len(stack) != 1:
        raise UnsafePatternError("missing closing parenthesis")


@functools.lru_cache(maxsize=512)
def compile_safe(pattern: str) -> re.Pattern[str]:
    """Check and compile `pattern` (cached); raise UnsafePatternError for unsafe or invalid patterns."""
    check_pattern(pattern)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UnsafePatternError(f"invalid regular expression: {exc}") from exc


def safe_search(pattern: str, text: str) -> bool:
    """`re.search` with the screening above and an input size limit."""
    if len(text) > MAX_INPUT_LENGTH:
        raise UnsafePatternError(f"text to match is longer than {MAX_INPUT_LENGTH} characters")
    return compile_safe(pattern).search(text) is not None
