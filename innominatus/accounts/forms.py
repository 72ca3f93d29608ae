"""The sign-in form of the login page and the admin: Django's, with the lock-out explained."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from innominatus.accounts.lockout import lockout_state


class LockoutMixin:
    """Refuses with a clear message while the address or the username is locked out."""

    request: Any
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        username = str(self.cleaned_data.get("username") or "")
        if self.request is not None:
            state = lockout_state(self.request, username)
            if state.locked:
                minutes = max(1, (state.retry_after + 59) // 60)
                raise forms.ValidationError(
                    f"Too many failed sign-ins. Try again in {minutes} minute(s).", code="locked_out"
                )
        return super().clean()  # type: ignore[misc]


class LoginForm(LockoutMixin, AuthenticationForm):
    """The portal's sign-in form."""


class AdminLoginForm(LockoutMixin, AdminAuthenticationForm):
    """The admin's sign-in form."""
