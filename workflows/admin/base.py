"""Shared pieces of the workflows admin: read-only behaviour, links and durations."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


class ReadOnlyAdminMixin:
    """Run records are written by the engine only: the admin shows them and never edits them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A tabular inline that only shows rows."""

    extra = 0
    can_delete = False
    show_change_link = True


def admin_link(model: str, pk: Any, text: Any, *, action: str = "change") -> SafeString:
    """An HTML link to a workflows admin page (`model` is the lowercase model name)."""
    url = reverse(f"admin:workflows_{model}_{action}", args=[pk])
    return format_html('<a href="{}">{}</a>', url, text)


def changelist_link(model: str, query: str, text: Any) -> SafeString:
    """An HTML link to a filtered changelist of a workflows model."""
    url = reverse(f"admin:workflows_{model}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, query, text)


def format_duration(seconds: float | None) -> str:
    """Seconds as a short human duration: 850ms, 42.0s, 3m 20s, 2h 05m."""
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def yaml_block(document: Any) -> SafeString:
    """A JSON document as highlighted YAML (the portal's highlighter: every text is escaped)."""
    from portal.highlight import highlight_lines
    from workflows.services.diffing import canonical_yaml

    if document in (None, "", {}, []):
        return format_html('<span class="quiet">{}</span>', "—")
    lines = highlight_lines(canonical_yaml(document))
    # The highlighted lines are already escaped SafeStrings: format_html_join keeps them as they are.
    return format_html(
        '<pre class="yaml">{}</pre>', format_html_join("\n", "{}", ((line,) for line in lines))
    )
