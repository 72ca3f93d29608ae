"""Portal pages ask the same role permissions as the API (innominatus/accounts/rbac.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url

from innominatus.accounts import rbac

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def may(user: Any, permission: str) -> bool:
    """Whether `user` holds `permission`."""
    return rbac.has_permission(user, permission)


def _sign_in(request: HttpRequest) -> HttpResponse:
    if request.headers.get("HX-Request"):
        # A live fragment whose session ended: send the whole page to the login form, not the fragment.
        page = urlsplit(request.headers.get("HX-Current-URL", "")).path or "/"
        response = redirect_to_login(page, resolve_url(settings.LOGIN_URL))
        answer = HttpResponse(status=401)
        answer["HX-Redirect"] = response["Location"]
        return answer
    return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))


def requires(permission: str) -> Callable[[View], View]:
    """Sign-in first (redirect to the login page), then 403 unless the user's roles grant `permission`."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return _sign_in(request)
            if not may(request.user, permission):
                raise PermissionDenied(f"your role does not grant {permission}")
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
