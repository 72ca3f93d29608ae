"""Server-side SVG of an execution: the step graph (columns by dependency depth) and a Gantt timeline.

Both render from plain step attributes, so they work without JavaScript and are testable without a
database. Every text that reaches the SVG is escaped; the result is safe to embed in a template.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.status import palette
from portal.timefmt import format_seconds

NODE_WIDTH = 176
NODE_HEIGHT = 54
COLUMN_GAP = 56
ROW_GAP = 18
PADDING = 14
NAME_CHARS = 22


class StepLike(Protocol):
    """What the renderers read from a step (StepExecution satisfies it)."""

    name: str
    status: str
    step_type: str
    position: int
    depends_on: list[str]
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class PlacedNode:
    """A step placed on the graph: its column (dependency depth) and row within the column."""

    step: StepLike
    column: int
    row: int

    @property
    def x(self) -> int:
        return PADDING + self.column * (NODE_WIDTH + COLUMN_GAP)

    @property
    def y(self) -> int:
        return PADDING + self.row * (NODE_HEIGHT + ROW_GAP)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def step_depths(steps: Sequence[StepLike]) -> dict[str, int]:
    """Longest dependency chain above each step (roots are 0); unknown names and cycles are ignored."""
    by_name = {step.name: step for step in steps}
    depths: dict[str, int] = {}
    visiting: set[str] = set()

    def depth(name: str) -> int:
        if name in depths:
            return depths[name]
        if name in visiting:
            return 0
        visiting.add(name)
        parents = [dep for dep in by_name[name].depends_on or [] if dep in by_name]
        value = 1 + max(depth(dep) for dep in parents) if parents else 0
        visiting.discard(name)
        depths[name] = value
        return value

    for step in steps:
        depth(step.name)
    return depths


def layout(steps: Sequence[StepLike]) -> list[PlacedNode]:
    """Columns by depth, parallel branches stacked in workflow-file order."""
    depths = step_depths(steps)
    rows: dict[int, int] = {}
    placed = []
    for step in sorted(steps, key=lambda s: (depths[s.name], s.position)):
        column = depths[step.name]
        placed.append(PlacedNode(step=step, column=column, row=rows.get(column, 0)))
        rows[column] = rows.get(column, 0) + 1
    return placed


def _spinner(cx: float, cy: float, colour: str) -> str:
    # SMIL animation: it spins without any script.
    return (
        f'<g class="spinner" aria-hidden="true"><circle cx="{cx}" cy="{cy}" r="7" fill="none" '
        f'stroke="{colour}" stroke-opacity="0.25" stroke-width="2.5"/>'
        f'<path d="M {cx} {cy - 7} A 7 7 0 0 1 {cx + 7} {cy}" fill="none" stroke="{colour}" '
        f'stroke-width="2.5" stroke-linecap="round"><animateTransform attributeName="transform" '
        f'type="rotate" from="0 {cx} {cy}" to="360 {cx} {cy}" dur="0.9s" repeatCount="indefinite"/>'
        f"</path></g>"
    )


def _node(node: PlacedNode, now: datetime) -> str:
    step = node.step
    colours = palette(step.status)
    x, y = node.x, node.y
    dash = ' stroke-dasharray="4 3"' if step.status == "pending" else ""
    seconds = _duration(step, now)
    detail = f"{step.step_type} · {step.status}" + (
        f" · {format_seconds(seconds)}" if seconds is not None else ""
    )
    label = f"{step.name}: {step.status}" + (f", {format_seconds(seconds)}" if seconds is not None else "")
    parts = [
        f'<a href="#step-{escape(step.name)}" class="graph-node" data-step="{escape(step.name)}" '
        f'data-status="{escape(step.status)}" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8" '
        f'fill="{colours.fill}" stroke="{colours.stroke}" stroke-width="1.5"{dash}/>',
        f'<text x="{x + 12}" y="{y + 22}" font-size="13" font-weight="600" fill="#1f2328">'
        f"{escape(_shorten(step.name, NAME_CHARS))}</text>",
        f'<text x="{x + 12}" y="{y + 41}" font-size="11" fill="{colours.stroke}">'
        f"{escape(_shorten(detail, NAME_CHARS + 8))}</text>",
    ]
    if step.status == "running":
        parts.append(_spinner(x + NODE_WIDTH - 16, y + 16, colours.stroke))
    parts.append("</a>")
    return "".join(parts)


def _edge(parent: PlacedNode, child: PlacedNode) -> str:
    x1, y1 = parent.x + NODE_WIDTH, parent.y + NODE_HEIGHT / 2
    x2, y2 = child.x - 4, child.y + NODE_HEIGHT / 2
    middle = (x1 + x2) / 2
    return (
        f'<path d="M {x1} {y1} C {middle} {y1}, {middle} {y2}, {x2} {y2}" fill="none" '
        f'stroke="#8c959f" stroke-width="1.5" marker-end="url(#arrow)"/>'
    )


def render_step_graph(steps: Sequence[StepLike], *, now: datetime, title: str = "Step graph") -> SafeString:
    """The dependency graph of `steps` as an accessible inline SVG (an empty string without steps)."""
    if not steps:
        return SafeString("")
    placed = layout(steps)
    by_name = {node.step.name: node for node in placed}
    columns = max(node.column for node in placed) + 1
    rows = max(node.row for node in placed) + 1
    width = 2 * PADDING + columns * NODE_WIDTH + (columns - 1) * COLUMN_GAP
    height = 2 * PADDING + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP
    edges = [
        _edge(by_name[dep], node)
        for node in placed
        for dep in node.step.depends_on or []
        if dep in by_name and dep != node.step.name
    ]
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.status] = counts.get(step.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    body = "".join(edges) + "".join(_node(node, now) for node in placed)
    svg = (
        f'<svg class="step-graph" role="img" aria-labelledby="graph-title graph-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">'
        f'<title id="graph-title">{escape(title)}</title>'
        f'<desc id="graph-desc">{len(steps)} steps in {columns} stages: {escape(summary)}</desc>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"/></marker></defs>'
        f"{body}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every interpolated text above is escaped  # nosec B308 B703 - reviewed: only escaped text or constants


def _duration(step: StepLike, now: datetime) -> float | None:
    if step.started_at is None:
        return None
    end = step.completed_at or now
    return max(0.0, (end - step.started_at).total_seconds())


GANTT_LABEL = 150
GANTT_CHART = 520
GANTT_ROW = 26
GANTT_AXIS = 24
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)


def _tick_step(span: float, most: int = 6) -> int:
    for step in TICK_STEPS:
        if span / step <= most:
            return step
    return TICK_STEPS[-1] * max(1, int(span // (TICK_STEPS[-1] * most)) + 1)


def render_gantt(steps: Sequence[StepLike], *, now: datetime, title: str = "Step timeline") -> SafeString:
    """A Gantt chart of step start and duration, relative to the first step's start."""
    started = [step.started_at for step in steps if step.started_at is not None]
    if not started:
        return SafeString("")
    origin = min(started)
    ends = [step.completed_at or now for step in steps if step.started_at is not None]
    span = max(1.0, (max(ends) - origin).total_seconds())
    scale = GANTT_CHART / span
    ordered = sorted(steps, key=lambda s: s.position)
    height = GANTT_AXIS + len(ordered) * GANTT_ROW + 8
    width = GANTT_LABEL + GANTT_CHART + 70
    tick = _tick_step(span)
    parts = []
    for index in range(int(span // tick) + 1):
        x = GANTT_LABEL + index * tick * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{GANTT_AXIS - 4}" x2="{x:.1f}" y2="{height - 4}" stroke="#d0d7de" '
            f'stroke-width="1"/><text x="{x:.1f}" y="{GANTT_AXIS - 8}" font-size="10" fill="#57606a" '
            f'text-anchor="middle">{escape(format_seconds(index * tick))}</text>'
        )
    for row, step in enumerate(ordered):
        y = GANTT_AXIS + row * GANTT_ROW
        colours = palette(step.status)
        parts.append(
            f'<text x="{GANTT_LABEL - 8}" y="{y + 17}" font-size="12" fill="#1f2328" text-anchor="end">'
            f"{escape(_shorten(step.name, 20))}</text>"
        )
        seconds = _duration(step, now)
        if step.started_at is None or seconds is None:
            parts.append(
                f'<text x="{GANTT_LABEL + 4}" y="{y + 17}" font-size="11" fill="#6e7781">'
                f"{escape(step.status)}</text>"
            )
            continue
        x = GANTT_LABEL + (step.started_at - origin).total_seconds() * scale
        bar = max(3.0, seconds * scale)
        label = f"{step.name}: {step.status}, {format_seconds(seconds)}"
        parts.append(
            f'<g class="gantt-bar" data-step="{escape(step.name)}"><title>{escape(label)}</title>'
            f'<rect x="{x:.1f}" y="{y + 5}" width="{bar:.1f}" height="{GANTT_ROW - 10}" rx="3" '
            f'fill="{colours.fill}" stroke="{colours.stroke}" stroke-width="1.2"/>'
            f'<text x="{x + bar + 5:.1f}" y="{y + 17}" font-size="11" fill="{colours.stroke}">'
            f"{escape(format_seconds(seconds))}</text></g>"
        )
    svg = (
        f'<svg class="gantt" role="img" aria-labelledby="gantt-title gantt-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">'
        f'<title id="gantt-title">{escape(title)}</title>'
        f'<desc id="gantt-desc">Start and duration of each step over {escape(format_seconds(span))}</desc>'
        f"{''.join(parts)}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every interpolated text above is escaped  # nosec B308 B703 - reviewed: only escaped text or constants
