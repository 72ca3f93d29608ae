"""Duration parsing and formatting."""

import math

import pytest

from workflows.engine import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("2h", 7200),
        ("7d", 604800),
        ("2w", 1209600),
        ("250ms", 0.25),
        ("1.5h", 5400),
        ("1h0m30s", 3630),
        (" 10m ", 600),
        ("90", 90),
        (45, 45),
        (2.5, 2.5),
        (0, 0),
    ],
)
def test_parse_duration_accepts_units_numbers_and_combinations(
    text: str | int | float, seconds: float
) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "bad", ["", "5x", "m5", "-5s", "1h 30m", "h", "5 m", "x" * 100, -1, True, math.nan, math.inf, None, [1]]
)
def test_parse_duration_rejects_everything_else_with_a_clear_message(bad: object) -> None:
    with pytest.raises(ValueError, match=r"duration|too long"):
        parse_duration(bad)  # type: ignore[arg-type]


def test_error_lists_the_accepted_forms() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("5x")
    assert "30s" in str(caught.value)
    assert "1h30m" in str(caught.value)


@pytest.mark.parametrize(
    ("seconds", "text"), [(5400, "1h30m"), (0, "0s"), (1.5, "1.5s"), (90061, "1d1h1m1s"), (60, "1m")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)
