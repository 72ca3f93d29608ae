"""Request middleware: one access log line per request, and the restore maintenance gate."""

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from innominatus.problems import DATABASE_UNAVAILABLE, unavailable_response
from ops import maintenance
from ops.logging import PROBE_PATHS

access_logger = logging.getLogger("innominatus.access")


def _username(request: HttpRequest) -> str | None:
    try:
        user = getattr(request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return str(user.get_username())
    except DATABASE_UNAVAILABLE:
        # The lazy user needs the database; the request already answered 503 for it.
        return None
    return None


class AccessLogMiddleware:
    """One access log line per request (logger innominatus.access), except the probes.

    It sits near the top so the duration covers the whole stack; the request id comes from
    accounts' RequestContextMiddleware (X-Request-ID in and out). Probes (/health, /ready,
    /metrics) are not logged: they arrive every few seconds per replica.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        if request.path in PROBE_PATHS:
            return response
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        access_logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "request_id": getattr(request, "request_id", None),
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "user": _username(request),
                "remote_addr": request.META.get("REMOTE_ADDR"),
            },
        )
        return response


class MaintenanceMiddleware:
    """The restore gate for requests, and 503 instead of 500 while the database is unreachable.

    Every request but the probes holds the gate shared until its response is built (see
    ops.maintenance), so a restore waits for it or it is refused with 503 maintenance. A database
    that cannot be reached, here or anywhere in the view, answers 503 database_unavailable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path in PROBE_PATHS or request.path.startswith("/static/"):
            return self.get_response(request)
        try:
            with maintenance.request_gate():
                return self.get_response(request)
        except DATABASE_UNAVAILABLE as error:
            return unavailable_response(request, error)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponseBase | None:
        """A view that lost the database answers 503, not Django's 500."""
        if isinstance(exception, DATABASE_UNAVAILABLE):
            return unavailable_response(request, exception)
        return None
