"""Server-side SVG of an execution: the step graph (laid out by Graphviz) and a Gantt timeline.

Both render from plain step attributes, so they work without JavaScript. Every text that reaches the
SVG is escaped (Graphviz escapes its labels); the result is safe to embed in a template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.status import palette
from portal.timefmt import format_seconds
from workflows.services import graphs


class StepLike(Protocol):
    """What the renderers read from a step (StepExecution satisfies it)."""

    name: str
    status: str
    step_type: str
    position: int
    depends_on: list[str]
    started_at: datetime | None
    completed_at: datetime | None


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_step_graph(steps: Sequence[StepLike], *, title: str = "Step graph") -> SafeString:
    """The step graph laid out by Graphviz (the module the graph API uses), as an accessible inline SVG.

    Each node links to its step's detail (`#step-<name>`); an empty string without steps.
    """
    if not steps:
        return SafeString("")
    svg = graphs.to_svg(graphs.step_graph(steps, title=title, link_prefix="#step-"))
    counts: dict[str, int] = {}
    for step in steps:
        counts[step.status] = counts.get(step.status, 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    label = f"{title}: {len(steps)} steps, {summary}"
    # Graphviz sizes the SVG in points; the page scales it through the viewBox (pan and zoom).
    svg = re.sub(
        r'^<svg width="([\d.]+)pt" height="([\d.]+)pt"',
        lambda match: (
            f'<svg class="step-graph" role="img" aria-label="{escape(label)}" '
            f'width="{match.group(1)}" height="{match.group(2)}" preserveAspectRatio="xMidYMid meet"'
        ),
        svg,
        count=1,
    )
    return mark_safe(svg)  # noqa: S308  # nosec B308 B703 - Graphviz escapes labels; our attributes are escaped


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
