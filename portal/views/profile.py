"""Profile: the user, their teams and roles, and their API keys (shown once, listed masked, revoked)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from innominatus.accounts import rbac
from innominatus.accounts.models import ApiKey, Team
from innominatus.accounts.services import ApiKeyError, create_api_key, revoke_api_key
from portal.confirm import Confirmation, ask, confirmed
from portal.forms import ApiKeyForm
from portal.permissions import requires


def _owner(request: HttpRequest) -> User:
    # `requires` already signed the visitor in; this narrows the type for the key queries.
    user = request.user
    if isinstance(user, AnonymousUser):
        raise PermissionDenied("sign in first")
    return user


def _context(request: HttpRequest, form: ApiKeyForm) -> dict[str, Any]:
    user = _owner(request)
    return {
        "form": form,
        "keys": ApiKey.objects.filter(user=user).order_by("revoked_at", "-created_at"),
        "teams": list(Team.objects.filter(members=user).order_by("name").values_list("name", flat=True)),
        "roles": rbac.role_names(user),
    }


@require_GET
@requires("profile:read")
def profile(request: HttpRequest) -> HttpResponse:
    """The profile page."""
    return render(request, "portal/profile.html", _context(request, ApiKeyForm()))


@require_POST
@requires("profile:write")
def create_key(request: HttpRequest) -> HttpResponse:
    """Issue a key and show it this once; the answer is not stored by browsers or proxies."""
    form = ApiKeyForm(request.POST)
    issued = None
    if form.is_valid():
        try:
            issued = create_api_key(
                user=request.user,
                name=form.cleaned_data["name"],
                expiry_days=form.cleaned_data["expiry_days"],
            )
        except ApiKeyError as exc:
            form.add_error("name", str(exc))
    context = _context(request, ApiKeyForm() if issued else form)
    context["issued"] = issued
    response = render(request, "portal/profile.html", context, status=200 if issued else 400)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@requires("profile:write")
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    """Revoke one of the user's own keys (someone else's key is a 404)."""
    key = ApiKey.objects.filter(user=_owner(request), pk=key_id).first()
    if key is None:
        raise Http404("no such API key")
    if not confirmed(request):
        return ask(
            request,
            Confirmation(
                title=f"Revoke API key {key.name}?",
                consequence=(
                    f"Every client that signs in with {key.name} ({key.masked_key}) is refused from now on. "
                    "A revoked key cannot be re-activated; you would create a new one."
                ),
                button=f"Revoke {key.name}",
                back_url=reverse("portal:profile"),
            ),
        )
    revoke_api_key(user=request.user, name=key.name)
    messages.success(request, f"Revoked API key {key.name}.")
    return redirect(reverse("portal:profile"))
