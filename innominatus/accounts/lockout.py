"""The password sign-in lock-out: per username with back-off, and per client address.

Failures are counted atomically (innominatus.accounts.counters) and forgotten after
LOGIN_FAILURE_WINDOW_SECONDS without one. A username that reached LOGIN_FAILURE_LIMIT failures is
locked for LOGIN_LOCKOUT_SECONDS, doubling with every further failure up to the window; an address
that reached LOGIN_ADDRESS_FAILURE_LIMIT failures (any usernames) is locked the same way. The
address is the client's as TRUSTED_PROXIES resolves it, so people behind one ingress are never
locked out together by somebody else's typos.
"""

import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from innominatus.accounts import counters
from innominatus.accounts.network import client_ip


@dataclass(frozen=True)
class LockoutState:
    """Whether sign-in is refused for an address or a username, and for how long."""

    locked: bool
    retry_after: int = 0


def _user_key(username: str) -> str:
    return f"lockout:user:{username.strip().lower()[:150]}"


def _keys(request: Any, username: str) -> list[tuple[str, int]]:
    """The counters a sign-in attempt is checked and counted against, each with its limit."""
    keys = []
    if username.strip():
        keys.append((_user_key(username), settings.LOGIN_FAILURE_LIMIT))
    address = client_ip(request)
    if address:
        keys.append((f"lockout:ip:{address}", settings.LOGIN_ADDRESS_FAILURE_LIMIT))
    return keys


def lock_seconds(failures: int, limit: int) -> float:
    """How long `failures` lock a counter whose limit is `limit`: doubling from the first lock."""
    if failures < limit:
        return 0.0
    window = float(settings.LOGIN_FAILURE_WINDOW_SECONDS)
    doublings = min(failures - limit, 32)
    return min(window, settings.LOGIN_LOCKOUT_SECONDS * 2.0**doublings)


def lockout_state(request: Any, username: str) -> LockoutState:
    """Locked while the username's or the address's latest failure is within its lock time."""
    now = time.time()
    wait = 0.0
    for key, limit in _keys(request, username):
        counted = counters.current(key, now=now)
        if counted is not None:
            wait = max(wait, counted.last_hit + lock_seconds(counted.count, limit) - now)
    seconds = math.ceil(wait) if wait > 0 else 0
    return LockoutState(locked=seconds > 0, retry_after=seconds)


def record_login_failure(request: Any, username: str) -> None:
    """Count a failure against the username and the address (each count is one atomic statement)."""
    for key, _limit in _keys(request, username):
        counters.hit(key, settings.LOGIN_FAILURE_WINDOW_SECONDS, sliding=True)


def clear_login_failures(username: str) -> None:
    """A successful sign-in clears its username's failures (the address keeps its count)."""
    if username.strip():
        counters.forget(_user_key(username))
