"""Request middleware: one access log line per request, and the restore maintenance gate."""

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, JsonResponse

from ops import maintenance
from ops.logging import PROBE_PATHS

access_logger = logging.getLogger("innominatus.access")

MAINTENANCE_RETRY_AFTER_SECONDS = 30


def _username(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.get_username())
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
    """While `manage.py restore` runs, the API answers 503 with Retry-After on every replica."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path in PROBE_PATHS or request.path.startswith("/static/"):
            return self.get_response(request)
        if maintenance.is_active():
            response = JsonResponse(
                {
                    "type": "about:blank",
                    "title": "Service Unavailable",
                    "status": 503,
                    "detail": "A database restore is in progress; try again shortly.",
                    "code": "maintenance",
                },
                status=503,
                content_type="application/problem+json",
            )
            response["Retry-After"] = str(MAINTENANCE_RETRY_AFTER_SECONDS)
            return response
        return self.get_response(request)
