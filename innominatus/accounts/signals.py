"""Sign-in events go to the audit log and drive the lock-out counters."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from innominatus.accounts import audit
from innominatus.accounts.lockout import clear_login_failures, record_login_failure


def _method(request: Any) -> str:
    path = getattr(request, "path", "") or ""
    return "oidc" if path.startswith("/auth/") else "password"


@receiver(user_logged_in, dispatch_uid="innominatus_audit_login")
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    clear_login_failures(user.get_username())
    audit.record(
        "login",
        user=user,
        object_type="user",
        object_id=user.get_username(),
        auth_method=_method(request),
        request=request,
    )


@receiver(user_logged_out, dispatch_uid="innominatus_audit_logout")
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record("logout", user=user, object_type="user", object_id=user.get_username(), request=request)


@receiver(user_login_failed, dispatch_uid="innominatus_audit_login_failed")
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")[:150]
    if request is not None and username:
        record_login_failure(request, username)
    audit.record(
        "login_failed",
        username=username,
        object_type="user",
        object_id=username,
        auth_method=_method(request),
        request=request,
    )
