"""Output for people (rich tables) and for scripts (`-o json|yaml`), chosen per command."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

FORMATS = ("table", "json", "yaml")

console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)


def output_format() -> str:
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if isinstance(ctx.obj, dict) and ctx.obj.get("output"):
            return str(ctx.obj["output"])
        ctx = ctx.parent
    return "table"


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(dict)
        root = ctx.find_root()
        root.ensure_object(dict)
        root.obj["output"] = value


def output_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """`-o/--output table|json|yaml` on a command (also accepted before the command name)."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(FORMATS),
        expose_value=False,
        callback=_set_output,
        is_eager=True,
        help="Output format: table for people, json or yaml for scripts.",
    )(func)


def dump(data: Any, fmt: str) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True)
    return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"


def _plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def emit(data: Any, people: Callable[[Any], None]) -> None:
    """Print `data` as JSON/YAML when asked, else let `people` show it."""
    fmt = output_format()
    if fmt in ("json", "yaml"):
        sys.stdout.write(dump(data, fmt))
        sys.stdout.flush()
    else:
        people(data)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items()) or "-"
    text = str(value)
    # Timestamps: seconds are enough on a terminal.
    if len(text) > 19 and text[10:11] == "T" and text[4:5] == "-":
        return text[:19].replace("T", " ")
    return text


def table(
    rows: Iterable[dict[str, Any]], columns: Sequence[tuple[str, str]], title: str | None = None
) -> None:
    """A table of `rows` with (key, header) columns; dotted keys reach into nested objects."""
    grid = Table(title=title, show_lines=False, header_style="bold")
    for _, header in columns:
        grid.add_column(header, overflow="fold")
    count = 0
    for row in rows:
        grid.add_row(*(escape(cell(pick(row, key))) for key, _ in columns))
        count += 1
    if count == 0:
        console.print(f"{title}: none" if title else "(none)", markup=False)
        return
    console.print(grid)


def details(data: dict[str, Any], fields: Sequence[tuple[str, str]]) -> None:
    """Key: value lines for one object."""
    width = max(len(label) for _, label in fields)
    for key, label in fields:
        console.print(f"[bold]{label.ljust(width)}[/bold]  {escape(cell(pick(data, key)))}")


def pick(row: Any, key: str) -> Any:
    value = row
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


STATUS_STYLE = {
    "completed": "green",
    "active": "green",
    "succeeded": "green",
    "deployed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "waiting": "magenta",
    "running": "cyan",
    "pending": "dim",
}


def status_text(status: str) -> str:
    style = STATUS_STYLE.get(status)
    return f"[{style}]{status}[/{style}]" if style else status
