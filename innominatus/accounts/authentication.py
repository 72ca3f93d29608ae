"""DRF authentication: `Authorization: Bearer` with an API key or an OIDC token, and the session."""

import hmac
import logging
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from innominatus.accounts import oidc
from innominatus.accounts.models import ApiKey
from innominatus.accounts.models.api_key import KEY_PREFIX, hash_key

logger = logging.getLogger(__name__)

# last_used_at is refreshed at most this often, so a busy key does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _mark(request: Request, method: str) -> None:
    """Remember how the request authenticated, for the audit log."""
    request._request.innominatus_auth = method  # type: ignore[attr-defined]


def authenticate_api_key(raw_key: str) -> tuple[Any, ApiKey]:
    """The user behind an API key; AuthenticationFailed when it is unknown, expired or revoked."""
    digest = hash_key(raw_key)
    key = ApiKey.objects.select_related("user").filter(key_hash=digest).first()
    # The lookup is by hash; the constant-time compare keeps the check honest if that ever changes.
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    now = timezone.now()
    if key.revoked_at is not None:
        raise exceptions.AuthenticationFailed("This API key has been revoked.")
    if key.expires_at <= now:
        raise exceptions.AuthenticationFailed("This API key has expired.")
    if not key.user.is_active:
        raise exceptions.AuthenticationFailed("The key's user is inactive.")
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
        # Conditional: concurrent requests of the same key write once per minute at most.
        stale = now - LAST_USED_RESOLUTION
        ApiKey.objects.filter(pk=key.pk).exclude(last_used_at__gte=stale).update(last_used_at=now)
    return key.user, key


class BearerAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`: an `inn_` API key, else an OIDC token when OIDC is enabled."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid bearer header: expected `Bearer <token>`.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid bearer token.") from None
        if token.startswith(KEY_PREFIX):
            user, key = authenticate_api_key(token)
            _mark(request, "api_key")
            return user, key
        if not oidc.enabled():
            raise exceptions.AuthenticationFailed("Invalid bearer token.")
        try:
            user = oidc.user_for_bearer_token(token)
        except oidc.TokenRejected as exc:
            logger.info("bearer token refused", extra={"reason": str(exc)})
            raise exceptions.AuthenticationFailed("Invalid or expired bearer token.") from None
        _mark(request, "oidc_token")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """Django session cookie with CSRF enforced on unsafe methods (DRF's behaviour), marked for audit."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None:
            _mark(request, "session")
        return result
