"""The dashboard's server-rendered SVG chart: executions per hour over the last day, by outcome."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from portal.status import PALETTES

WIDTH = 720
HEIGHT = 200
LEFT = 34
BOTTOM = 26
TOP = 12
# Stacking order, bottom to top, with the tone each outcome is drawn in.
SERIES = (("completed", "success"), ("failed", "danger"), ("cancelled", "neutral"), ("active", "info"))


@dataclass(frozen=True, slots=True)
class HourBucket:
    """Executions created within one hour, counted by outcome."""

    start: datetime
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    active: int = 0

    @property
    def total(self) -> int:
        return self.completed + self.failed + self.cancelled + self.active


def _nice_max(value: int) -> int:
    for candidate in (4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= candidate:
            return candidate
    return ((value // 1000) + 1) * 1000


def render_hourly_chart(buckets: Sequence[HourBucket], *, title: str = "Executions per hour") -> SafeString:
    """Stacked bars per hour (oldest left) with a labelled y axis and a few hour labels."""
    total = sum(bucket.total for bucket in buckets)
    peak = _nice_max(max((bucket.total for bucket in buckets), default=0))
    plot_w = WIDTH - LEFT - 8
    plot_h = HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(buckets))
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 8}" y2="{y:.1f}" '
            f'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" fill="#57606a" text-anchor="end">'
            f"{int(peak * fraction)}</text>"
        )
    for index, bucket in enumerate(buckets):
        x = LEFT + index * slot + slot * 0.15
        bar_w = slot * 0.7
        base = TOP + plot_h
        label = f"{bucket.start:%H:%M}: {bucket.total} executions"
        detail = ", ".join(f"{getattr(bucket, name)} {name}" for name, _ in SERIES if getattr(bucket, name))
        parts.append(f"<g><title>{escape(label + (' (' + detail + ')' if detail else ''))}</title>")
        for name, tone in SERIES:
            count = getattr(bucket, name)
            if not count:
                continue
            h = plot_h * count / peak
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTES[tone].stroke}" data-series="{name}"/>'
            )
        parts.append("</g>")
        if index % 6 == 0 or index == len(buckets) - 1:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 8}" font-size="10" fill="#57606a" '
                f'text-anchor="middle">{bucket.start:%H:%M}</text>'
            )
    svg = (
        f'<svg class="chart" role="img" aria-labelledby="chart-title chart-desc" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{total} executions in the last {len(buckets)} hours, '
        "stacked by outcome</desc>"
        f"{''.join(parts)}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - numbers and escaped labels only  # nosec B308 B703 - reviewed: only escaped text or constants
