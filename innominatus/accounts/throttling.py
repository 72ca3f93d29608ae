"""Rate limits per user and per client address, counted atomically where every worker sees them.

Every gunicorn worker and every replica increments the same counter, so a limit of N per period lets
at most N requests through in a window however many arrive at once; the answer after the limit is 429
with Retry-After until the window ends. Where the counters live is THROTTLE_STORE:

- `cache` (the default when REDIS_URL is set): Redis INCR on a key per caller and window; windows are
  aligned to multiples of the period. No database statement at all.
- `database` (the default otherwise): one SQL upsert (innominatus.accounts.counters) into an UNLOGGED
  table on PostgreSQL: no WAL record and no WAL flush per request, lost only if the database server
  crashes. A window opens with the first request of a caller and lasts the period.

Login lock-out counters always stay in the (logged) database table, see innominatus.accounts.lockout.
"""

import math
import time
from abc import ABC, abstractmethod
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from innominatus.accounts import counters
from innominatus.accounts.network import client_ip

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """`30/min` → (30, 60): the number of requests and the period in seconds."""
    number, _, period = rate.partition("/")
    return int(number), PERIODS[period[0]]


class _CounterThrottle(BaseThrottle, ABC):
    """A throttle whose scope names its rate in RATE_LIMITS and whose key names the caller."""

    scope = ""

    def __init__(self) -> None:
        self.retry_after: float | None = None

    @abstractmethod
    def key(self, request: Request) -> str | None:
        """Who is counted, or None when this throttle does not apply to the request."""

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = settings.RATE_LIMITS.get(self.scope)
        ident = self.key(request) if rate else None
        if rate is None or ident is None:
            return True
        limit, period = parse_rate(rate)
        counted = _hit(f"throttle:{self.scope}:{ident}", period)
        if counted.count <= limit:
            return True
        self.retry_after = max(1.0, counted.window_ends - time.time())
        return False

    def wait(self) -> float | None:
        return math.ceil(self.retry_after) if self.retry_after is not None else None


def store() -> str:
    """Where throttle counters live: "cache" (shared Redis) or "database" (see the module doc)."""
    choice = str(getattr(settings, "THROTTLE_STORE", "auto"))
    if choice == "auto":
        return "cache" if getattr(settings, "REDIS_URL", "") else "database"
    return choice


def _hit(key: str, period: int) -> counters.Count:
    if store() == "database":
        return counters.hit(key, period, store=counters.EPHEMERAL)
    now = time.time()
    window = int(now // period)
    name = f"{key}:{window}"
    # add() is SET NX: only the first request of a window creates the key; INCR is atomic in Redis.
    cache.add(name, 0, timeout=period + 1)
    try:
        count = cache.incr(name)
    except ValueError:  # evicted between the two calls: this hit opens the window again
        cache.add(name, 1, timeout=period + 1)
        count = 1
    return counters.Count(count=int(count), window_ends=float((window + 1) * period), last_hit=now)


def _address(request: Request) -> str:
    return client_ip(request) or "unknown"


class UserRateThrottle(_CounterThrottle):
    """Requests per signed-in user (RATE_LIMIT_USER)."""

    scope = "user"

    def key(self, request: Request) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return str(request.user.pk)


class AnonRateThrottle(_CounterThrottle):
    """Requests per client address for anonymous callers (RATE_LIMIT_ANON)."""

    scope = "anon"

    def key(self, request: Request) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return _address(request)


class AddressRateThrottle(_CounterThrottle):
    """All requests per client address, signed in or not (RATE_LIMIT_ADDRESS)."""

    scope = "address"

    def key(self, request: Request) -> str | None:
        return _address(request)


class LoginRateThrottle(_CounterThrottle):
    """Login attempts per client address (RATE_LIMIT_LOGIN), on top of the failure lock-out."""

    scope = "login"

    def key(self, request: Request) -> str | None:
        return _address(request)
