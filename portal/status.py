"""One colour vocabulary for every status the portal shows: badges, graphs, timelines and charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


# --- Honest states ---------------------------------------------------------------------------------
# What actually happened, in words: a render-only deploy is not "active", a run waiting for a human is
# not "running". Computed here from existing data (a resource's `metadata.applied` and
# `render_only_reason`, a deploy step's `render_only` output, the latest manifest set's `applied`)
# so that this is the one place to point at model properties once they exist.


@dataclass(frozen=True, slots=True)
class Honest:
    """A state as the portal shows it: key (data-state), tone, icon and words, and why (a tooltip)."""

    key: str
    tone: str
    icon: str
    words: str
    reason: str = ""


DEPLOYED = ("deployed", "success", "✓", "deployed")
RENDERED = ("rendered", "rendered", "◇", "rendered only, not applied")
DEPLOYING = ("deploying", "info", "↻", "deploying")
FAILED = ("failed", "danger", "✕", "failed")
WAITING = ("waiting", "warning", "⏸", "waiting for approval")
UNDEPLOYING = ("undeploying", "caution", "↓", "removing")
NOT_DEPLOYED = ("not-deployed", "pending", "○", "not deployed yet")

TONES["rendered"] = "rendered"
PALETTES["rendered"] = Palette("#6639ba", "#fbefff")

# Words for raw status values where the value alone misleads or is jargon.
STATUS_WORDS: dict[str, str] = {"waiting": "waiting for approval", "completed": "completed"}


def _honest(spec: tuple[str, str, str, str], reason: str = "") -> Honest:
    return Honest(*spec, reason=reason)


def is_render_only_resource(resource: Any) -> bool:
    metadata = getattr(resource, "metadata", None) or {}
    return metadata.get("applied") is False


def resource_state(resource: Any) -> Honest | None:
    """An active resource that was only rendered says so; other states keep their own badge (None)."""
    if resource.state == "active" and is_render_only_resource(resource):
        reason = str((resource.metadata or {}).get("render_only_reason") or "render-only mode")
        return _honest(RENDERED, reason)
    return None


def render_only_reason(steps: Any) -> str:
    """Why a run only rendered (a step's `render_only` output), or "" when it applied for real."""
    for step in steps:
        outputs = getattr(step, "outputs", None) or {}
        if outputs.get("render_only"):
            return str(outputs.get("reason") or outputs.get("render_only_reason") or "render-only mode")
    return ""


def application_state(application: Any, manifest_set: Any = None, *, waiting: bool = False) -> Honest:
    """Deployed, rendered only, deploying, failed, waiting for approval, removing or not deployed yet."""
    deploy_state = getattr(application, "deploy_state", "") or ""
    message = getattr(application, "deploy_message", "") or ""
    if waiting:
        return _honest(WAITING, "a workflow of this application waits for a decision")
    if deploy_state == "deploying":
        return _honest(DEPLOYING, message)
    if deploy_state == "undeploying":
        return _honest(UNDEPLOYING, message)
    if deploy_state == "failed":
        return _honest(FAILED, message)
    if manifest_set is not None:
        if not manifest_set.applied:
            return _honest(RENDERED, getattr(manifest_set, "reason", "") or "render-only mode")
        return _honest(DEPLOYED, message)
    return _honest(NOT_DEPLOYED, message)


def execution_state(execution: Any, steps: Any = ()) -> Honest | None:
    """A completed run whose deploy only rendered is shown as such; None keeps the plain status badge."""
    if execution.status == "completed":
        reason = render_only_reason(steps)
        if reason:
            return Honest("rendered", "rendered", "◇", "completed, rendered only", reason)
    if execution.status == "waiting":
        return _honest(WAITING)
    return None
