"""The inbox page: what waits on the signed-in user."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.permissions import requires


@require_GET
@requires("workflows:read")
def inbox(request: HttpRequest) -> HttpResponse:
    """Approvals waiting on me first, then my teams' failed runs (the context processor computes both)."""
    return render(request, "portal/inbox.html")
