"""Rate limits per user and per client address, and the login lock-out, both in the shared cache.

The default cache is the database (or Redis when REDIS_URL is set), so every gunicorn worker and
every replica counts against the same numbers.
"""

import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from innominatus.accounts.network import client_ip


class _CacheThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle keyed by our idea of the client address, in the shared cache."""

    cache = caches["default"]

    def get_ident(self, request: Request) -> str:
        return client_ip(request) or "unknown"

    def get_rate(self) -> str | None:
        return settings.RATE_LIMITS.get(self.scope or "")


class UserRateThrottle(_CacheThrottle):
    """Requests per signed-in user (RATE_LIMIT_USER)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonRateThrottle(_CacheThrottle):
    """Requests per client address for anonymous callers (RATE_LIMIT_ANON)."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AddressRateThrottle(_CacheThrottle):
    """All requests per client address, signed in or not (RATE_LIMIT_ADDRESS)."""

    scope = "address"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginRateThrottle(_CacheThrottle):
    """Login attempts per client address (RATE_LIMIT_LOGIN), on top of the failure lock-out."""

    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


@dataclass(frozen=True)
class LockoutState:
    """Whether sign-in is refused for an address or a username, and for how long."""

    locked: bool
    retry_after: int = 0


def _keys(ip: str, username: str) -> list[str]:
    keys = [f"lockout:ip:{ip}"] if ip else []
    if username:
        keys.append(f"lockout:user:{username.strip().lower()[:150]}")
    return keys


def lockout_state(request: Any, username: str) -> LockoutState:
    """Locked when the address or the username reached LOGIN_FAILURE_LIMIT failures in the window."""
    cache = caches["default"]
    now = time.time()
    wait = 0
    for key in _keys(client_ip(request), username):
        entry = cache.get(key)
        if entry and entry[0] >= settings.LOGIN_FAILURE_LIMIT and entry[1] > now:
            wait = max(wait, int(entry[1] - now) + 1)
    return LockoutState(locked=wait > 0, retry_after=wait)


def record_login_failure(request: Any, username: str) -> None:
    """Count a failure against the address and the username; the window starts at the first failure.

    The counter is a read-modify-write, so two failures landing at the same instant may count once;
    with a limit of a handful per quarter hour this bounds a brute force to a few extra guesses.
    """
    cache = caches["default"]
    now = time.time()
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in _keys(client_ip(request), username):
        entry = cache.get(key)
        if not entry or entry[1] <= now:
            entry = (0, now + window)
        count, until = entry[0] + 1, entry[1]
        if count >= settings.LOGIN_FAILURE_LIMIT:
            # Reaching the limit locks for a full window from now.
            until = max(until, now + window)
        cache.set(key, (count, until), timeout=max(1, int(until - now) + 1))


def clear_login_failures(username: str) -> None:
    """A successful sign-in clears its username's counter (the address keeps its count)."""
    if username:
        caches["default"].delete(f"lockout:user:{username.strip().lower()[:150]}")
