"""Syntax highlighting of specs line by line (Pygments), so that problems can sit next to their lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments.lexers import JsonLexer, YamlLexer
from pygments.token import STANDARD_TYPES, _TokenType


@dataclass(slots=True)
class SourceLine:
    """One line of a document: its number, highlighted HTML and the problems reported at it."""

    number: int
    html: SafeString
    problems: list[Any] = field(default_factory=list)


def _css_class(token: _TokenType) -> str:
    # Walk up to the nearest token type with a short class name (Name.Tag -> "nt", String -> "s").
    while token not in STANDARD_TYPES and token.parent is not None:
        token = token.parent
    return STANDARD_TYPES.get(token, "")


def highlight_lines(text: str) -> list[SafeString]:
    """Highlight YAML (or JSON, when the document is an object) and return one HTML string per line."""
    # stripnl=False keeps leading blank lines, so line numbers match what the parser reports.
    lexer = JsonLexer(stripnl=False) if text.lstrip().startswith("{") else YamlLexer(stripnl=False)
    lines: list[list[str]] = [[]]
    for token, value in lexer.get_tokens(text):
        css = _css_class(token)
        for index, piece in enumerate(value.split("\n")):
            if index:
                lines.append([])
            if piece:
                lines[-1].append(f'<span class="{css}">{escape(piece)}</span>' if css else str(escape(piece)))
    # Pygments ends the stream with a newline of its own; drop the empty line it adds.
    if len(lines) > 1 and not lines[-1]:
        lines.pop()
    return [mark_safe("".join(parts)) for parts in lines]  # noqa: S308 - every piece is escaped  # nosec B308 B703 - reviewed: only escaped text or constants


def annotate(text: str, problems: list[Any]) -> tuple[list[SourceLine], list[Any]]:
    """Highlighted lines with problems attached by their `line`; problems without a line come back apart."""
    lines = [SourceLine(number=index + 1, html=html) for index, html in enumerate(highlight_lines(text))]
    unplaced = []
    for problem in problems:
        line = getattr(problem, "line", None)
        if isinstance(line, int) and 1 <= line <= len(lines):
            lines[line - 1].problems.append(problem)
        else:
            unplaced.append(problem)
    return lines, unplaced
