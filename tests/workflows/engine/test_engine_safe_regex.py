"""Static screening of user regular expressions against catastrophic backtracking."""

import pytest

from workflows.engine import UnsafePatternError
from workflows.engine.safe_regex import check_pattern, compile_safe, safe_search


@pytest.mark.parametrize(
    "pattern",
    [
        r"^v\d+\.\d+\.\d+(-rc\d+)?$",
        r"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
        r"(foo)+",
        r"(?:ab)*c",
        r"(a+)?",
        r"(?>a|ab)*c",
        r"(a+)++",
        r"(?:a|b)*+",
        r"[(a+)]+",
        r"\(a+\)+",
        r"(?P<ver>\d+)\.x",
        r"(a|b){3}",
        r"^\d{1,3}(?:\.\d{1,3}){3}$",
        r"(?i)hello",
        r"a{2}b",
        r"x{",
    ],
)
def test_safe_patterns_are_accepted(pattern: str) -> None:
    check_pattern(pattern)
    compile_safe(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a+)+", "nested quantifiers"),
        (r"(a*)*b", "nested quantifiers"),
        (r"(\w+\s?)*$", "nested quantifiers"),
        (r"((ab)+x)*", "nested quantifiers"),
        (r"(a+){2,}", "nested quantifiers"),
        (r"(a+){2}", "nested quantifiers"),
        (r"(?:a{1,3})+", "nested quantifiers"),
        (r"(?:a{1,20}){3}", "nested quantifiers"),
        (r"(?:a{1,3}){50}", "nested quantifiers"),
        (r"(?:a|ab)*c", "alternation"),
        (r"((a|b)c)+", "alternation"),
        (r"(a)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "backreferences"),
        (r"(a)?(?(1)b|c)", "conditional"),
        (r"a{5000}", "repeat counts"),
        ("a" * 257, "longer than 256"),
        (r"(a", "missing closing"),
        (r"a)", "unbalanced"),
        (r"[a", "unterminated"),
        (r"a**", "invalid regular expression"),
    ],
)
def test_dangerous_or_invalid_patterns_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(UnsafePatternError, match=reason):
        compile_safe(pattern)


def test_safe_search_limits_input() -> None:
    assert safe_search("b$", "aab")
    with pytest.raises(UnsafePatternError):
        safe_search("a", "a" * (64 * 1024 + 1))
