"""One colour vocabulary for every status the portal shows: badges, graphs, timelines and charts."""

from __future__ import annotations

from dataclasses import dataclass

# Tone of each status value across executions, steps and resources (they share several words).
TONES: dict[str, str] = {
    "completed": "success",
    "active": "success",
    "running": "info",
    "provisioning": "info",
    "updating": "info",
    "waiting": "warning",
    "requested": "warning",
    "degraded": "caution",
    "terminating": "caution",
    "failed": "danger",
    "cancelled": "neutral",
    "skipped": "neutral",
    "terminated": "neutral",
    "pending": "pending",
}


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of one tone: the text/stroke colour and the light fill behind it."""

    stroke: str
    fill: str


PALETTES: dict[str, Palette] = {
    "success": Palette("#1a7f37", "#dafbe1"),
    "info": Palette("#0969da", "#ddf4ff"),
    "warning": Palette("#9a6700", "#fff8c5"),
    "caution": Palette("#bc4c00", "#fff1e5"),
    "danger": Palette("#cf222e", "#ffebe9"),
    "neutral": Palette("#57606a", "#eaeef2"),
    "pending": Palette("#6e7781", "#f6f8fa"),
}


def tone(status: str) -> str:
    """The tone of a status value; unknown values are neutral."""
    return TONES.get(status, "neutral")


def palette(status: str) -> Palette:
    """The colours of a status value."""
    return PALETTES[tone(status)]
