"""Password sign-in with lock-out: refused outright while the address or username is locked."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from innominatus.accounts.lockout import lockout_state


class LockoutModelBackend(ModelBackend):
    """Django's model backend behind the lock-out check (API login, login page and admin login alike)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        name = username if username is not None else kwargs.get(get_user_model().USERNAME_FIELD)
        if request is not None and name is not None and lockout_state(request, str(name)).locked:
            # PermissionDenied stops Django from asking any other backend.
            raise PermissionDenied("too many failed sign-ins")
        return super().authenticate(request, username=username, password=password, **kwargs)
