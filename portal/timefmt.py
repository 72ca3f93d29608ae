"""Short human durations for tables, graphs and timelines."""

from __future__ import annotations


def format_seconds(seconds: float | None) -> str:
    """`0.4s`, `12s`, `3m 05s`, `2h 07m`, `3d 4h`; an em dash when unknown."""
    if seconds is None:
        return "—"
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
