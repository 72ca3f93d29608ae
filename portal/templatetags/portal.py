"""Template helpers of the portal: status badges, durations, progress bars, permissions, navigation."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from portal import status as status_colours
from portal.permissions import may
from portal.timefmt import format_seconds

register = template.Library()
WORKER_SUFFIX = re.compile(r"^(attempt \d+ of \d+ started) on \S+$")


@register.simple_tag
def status_badge(value: str) -> SafeString:
    """A coloured badge for any execution, step or resource status."""
    tone = status_colours.tone(str(value))
    spinner = SafeString('<span class="spinner" aria-hidden="true"></span>') if value == "running" else ""
    words = status_colours.STATUS_WORDS.get(str(value), str(value))
    icon = format_html('<span class="badge-icon" aria-hidden="true">⏸</span>') if value == "waiting" else ""
    return format_html(
        '<span class="badge tone-{}" data-status="{}">{}{}{}</span>', tone, value, spinner, icon, words
    )


@register.simple_tag
def honest_badge(state: status_colours.Honest | None, fallback: str = "") -> SafeString:
    """The badge of an honest state (icon, colour and words; the reason as tooltip); else a status badge."""
    if state is None:
        return status_badge(fallback) if fallback else SafeString("")
    spinner = state.key in ("deploying", "undeploying")
    icon = (
        SafeString('<span class="spinner" aria-hidden="true"></span>')
        if spinner
        else format_html('<span class="badge-icon" aria-hidden="true">{}</span>', state.icon)
    )
    return format_html(
        '<span class="badge tone-{}" data-state="{}"{}{}>{}{}</span>',
        state.tone,
        state.key,
        format_html(' data-status="{}"', fallback) if fallback else "",
        format_html(' title="{}"', state.reason) if state.reason else "",
        icon,
        state.words,
    )


@register.filter
def tone(value: str) -> str:
    """The colour tone of a status value (success, info, warning, danger, …)."""
    return status_colours.tone(str(value))


@register.filter
def duration(seconds: float | None) -> str:
    """A short human duration."""
    return format_seconds(seconds)


@register.inclusion_tag("portal/partials/progress.html")
def progress(done: int | None, total: int | None, status: str = "") -> dict[str, Any]:
    """A progress bar of finished/total steps."""
    done, total = int(done or 0), int(total or 0)
    percent = round(100 * done / total) if total else 0
    return {"done": done, "total": total, "percent": percent, "tone": status_colours.tone(status)}


@register.simple_tag(takes_context=True)
def can(context: template.Context, permission: str) -> bool:
    """`{% can "workflows:write" as may_act %}`: whether the signed-in user holds a permission."""
    request: HttpRequest | None = context.get("request")
    return bool(request is not None and may(request.user, permission))


@register.simple_tag(takes_context=True)
def nav_current(context: template.Context, prefix: str) -> SafeString:
    """`aria-current="page"` for the navigation entry that owns the current path."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return SafeString("")
    path = request.path
    current = path == "/" if prefix == "/" else path == prefix or path.startswith(prefix.rstrip("/") + "/")
    return mark_safe('aria-current="page"' if current else "")  # noqa: S308 - constant  # nosec B308 B703 - reviewed: only escaped text or constants


@register.simple_tag
def elapsed(started: datetime | None, completed: datetime | None, now: datetime) -> SafeString:
    """A step's elapsed time; while it runs the page's script keeps counting from `data-start`."""
    if started is None:
        return SafeString('<span class="muted">—</span>')
    end = completed or now
    text = format_seconds(max(0.0, (end - started).total_seconds()))
    if completed is not None:
        return format_html('<span class="elapsed">{}</span>', text)
    return format_html(
        '<span class="elapsed" data-start="{}" data-ticking="true">{}</span>', started.isoformat(), text
    )


@register.simple_tag
def local_time(value: datetime | None, style: str = "datetime") -> SafeString:
    """A <time> the page's script shows in the viewer's time zone (UTC with its zone without script)."""
    if value is None:
        return SafeString("")
    utc = value.astimezone(UTC)
    text = utc.strftime("%H:%M:%S UTC" if style == "time" else "%Y-%m-%d %H:%M:%S UTC")
    return format_html('<time datetime="{}" data-local="{}">{}</time>', utc.isoformat(), style, text)


@register.filter
def without_worker(message: str) -> str:
    """A step's "attempt 1 of 3 started on <worker>" line without the worker id (operators see it in the admin)."""
    return WORKER_SUFFIX.sub(r"\1", message)


@register.filter
def resource_honest(resource: Any) -> status_colours.Honest | None:
    """A resource's honest state (rendered only) or None for its plain state badge."""
    return status_colours.resource_state(resource)


@register.filter
def application_honest(application: Any) -> status_colours.Honest:
    """An application row's state from `deploy_state` and the annotated latest manifest set."""
    # `last_applied` is NULL when nothing was rendered yet (no manifest set).
    applied = getattr(application, "last_applied", None)
    manifest = None if applied is None else _Applied(bool(applied))
    return status_colours.application_state(application, manifest)


class _Applied:
    """The part of a manifest set the state needs, from list annotations."""

    def __init__(self, applied: bool) -> None:
        self.applied = applied
        self.reason = ""
