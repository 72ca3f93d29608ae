"""Golden-path parameters in words: labels, patterns and ranges a person can read instead of raw names
and regular expressions."""

from __future__ import annotations

import re
from typing import Any

# Labels for parameter names that read badly when merely de-snaked.
LABELS = {"app_name": "Application", "application": "Application", "db_name": "Database name"}
# The patterns the shipped golden paths use, described in words.
PATTERN_WORDS = {
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$": "lowercase letters, digits and dashes; starts and ends with a letter or digit",
    "^[a-z0-9][-a-z0-9]*[a-z0-9]$": (
        "at least two characters: lowercase letters, digits and dashes; starts and ends with a letter or digit"
    ),
    "^[0-9]+(Mi|Gi|Ti)$": "a whole number with a unit: Mi, Gi or Ti (e.g. 10Gi)",
}


def label(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").replace("-", " ").strip().capitalize()


_CLASS = re.compile(r"^\^\[([^\]]+)\][+*]\$$")
_PARTS = (("a-z", "lowercase letters"), ("A-Z", "capital letters"), ("0-9", "digits"), ("_", "underscores"))


def _class_words(body: str) -> str:
    """`a-z0-9-` → "lowercase letters, digits and dashes" (None-like "" for anything else)."""
    words = []
    for token, word in _PARTS:
        if token in body:
            words.append(word)
            body = body.replace(token, "")
    for char, word in (("-", "dashes"), (".", "dots")):
        if char in body:
            words.append(word)
            body = body.replace(char, "")
    if body or not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def pattern_words(pattern: str) -> str:
    """The pattern in words when we can say it; otherwise the pattern itself, labelled as such."""
    if pattern in PATTERN_WORDS:
        return PATTERN_WORDS[pattern]
    match = _CLASS.match(pattern)
    words = _class_words(match.group(1)) if match else ""
    return f"only {words}" if words else f"text matching the pattern {pattern}"


def range_words(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"From {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"At least {minimum:g}"
    if maximum is not None:
        return f"At most {maximum:g}"
    return ""


def default_words(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f"Default: {'yes' if value else 'no'}"
    return f"Default: {value}"


def humane_error(message: str, pattern: str | None) -> str:
    """The engine's "does not match the pattern '…'" in words."""
    if pattern and "does not match the pattern" in message:
        return f"Use {pattern_words(pattern)}."
    return message
