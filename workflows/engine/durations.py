"""Duration parsing: `30s`, `5m`, `1h30m`, `7d`, `2w`, `250ms`, or plain numbers of seconds."""

from __future__ import annotations

import math
import re

_UNITS: dict[str, float] = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
# Longer inputs are never legitimate durations; refusing them early keeps error messages readable.
_MAX_TEXT = 64


def parse_duration(value: str | int | float) -> float:
    """Return `value` in seconds; raise ValueError with the accepted forms when it is not a duration."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration; use e.g. 30s, 5m, 1h30m or a number of seconds")
    if isinstance(value, int | float):
        seconds = float(value)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{value!r} is not a duration; it must be a non-negative number of seconds")
        return seconds
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration; use e.g. 30s, 5m, 1h30m or a number of seconds")
    text = value.strip()
    if len(text) > _MAX_TEXT:
        raise ValueError(f"duration {text[:_MAX_TEXT]!r}… is too long")
    if _NUMBER.fullmatch(text):
        return float(text)
    if not text or not _WHOLE.fullmatch(text):
        raise ValueError(
            f"{value!r} is not a duration; use a number with a unit (ms, s, m, h, d, w) "
            "such as 30s, 5m, 1h30m, or a plain number of seconds"
        )
    return sum(float(amount) * _UNITS[unit] for amount, unit in _PART.findall(text))


def format_duration(seconds: float) -> str:
    """Render seconds compactly (`5400` -> `1h30m`); the inverse of parse_duration for whole seconds."""
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"{seconds!r} is not a valid duration")
    if seconds != int(seconds):
        return f"{seconds:g}s"
    remaining = int(seconds)
    if remaining == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)
