"""Confirmation of destructive and deploying actions: the action's POST only acts with `confirmed=yes`.

Without it the view answers with a page that says exactly what will happen (the rollback's diff, the
step a rejection fails, the key a revocation ends) and a form that repeats the POST with the
confirmation; "Keep things as they are" is a plain link back, so declining changes nothing.
Enforced on the server, so a stray click, a double submit or a missing script cannot skip it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirmed"


@dataclass
class Confirmation:
    """What the confirmation page shows and re-posts."""

    title: str
    consequence: str
    button: str
    back_url: str
    tone: str = "danger"
    fields: dict[str, str] = field(default_factory=dict)
    details_template: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRM_FIELD) == "yes"


def ask(request: HttpRequest, confirmation: Confirmation) -> HttpResponse:
    """The confirmation page for the POST being made (200: nothing happened yet)."""
    return render(
        request,
        "portal/confirm.html",
        {"confirmation": confirmation, "action": request.path, **confirmation.details},
    )
