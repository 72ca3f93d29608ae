"""GET /health (status), GET /ready (readiness) and GET /livez (liveness) for probes and monitors.

/health and /ready report the database; /livez does not touch it, so a database outage takes
the pods out of the Service (readiness) but never makes Kubernetes restart them (liveness).
"""

import asyncio
import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, JsonResponse
from health_check.base import HealthCheckResult
from health_check.exceptions import ServiceWarning
from health_check.views import HealthCheckView

from ops import buildinfo
from ops.health.checks import (
    EXECUTOR,
    ComponentCheck,
    DatabaseCheck,
    MigrationsCheck,
    ServerCheck,
    WorkersCheck,
)
from ops.metrics import definitions as m

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_STATUS_VALUE = {HEALTHY: 1.0, DEGRADED: 0.5, UNHEALTHY: 0.0}


def rfc3339(moment: datetime | None = None) -> str:
    """UTC time as 2025-01-15T10:30:00.123Z."""
    return (
        (moment or datetime.now(UTC))
        .astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _status(result: HealthCheckResult) -> str:
    if result.error is None:
        return HEALTHY
    if isinstance(result.error, ServiceWarning):
        return DEGRADED
    return UNHEALTHY


def _overall(result: HealthCheckResult, status: str) -> str:
    """What a component's status makes of the whole: a non-critical component only degrades it."""
    check = result.check
    critical = isinstance(check, ComponentCheck) and check.critical
    return DEGRADED if status == UNHEALTHY and not critical else status


def _report(result: HealthCheckResult) -> dict[str, Any]:
    check = result.check
    assert isinstance(check, ComponentCheck)
    status = _status(result)
    latency_ms = round(result.time_taken * 1000, 3)
    m.HEALTH_CHECK_LATENCY.labels(component=check.component).set(latency_ms)
    m.HEALTH_CHECK_STATUS.labels(component=check.component).set(_STATUS_VALUE[status])
    return {
        "name": check.component,
        "status": status,
        "message": check.ok_message() if result.error is None else result.error.message,
        "latency_ms": latency_ms,
        "timestamp": rfc3339(result.error.timestamp if result.error else None),
    }


def _quiet(response: JsonResponse) -> JsonResponse:
    """Probes are not logged per request, not even by django.request for 503s."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class _ProbeView(HealthCheckView):
    """Runs the checks concurrently (database ones on the shared health thread) and renders JSON."""

    checks: tuple[type[ComponentCheck], ...] = ()

    def get_executor(self) -> contextlib.AbstractContextManager[Executor | None]:
        return contextlib.nullcontext(EXECUTOR)

    async def run_checks(self) -> list[HealthCheckResult]:
        with self.get_executor() as executor:
            return list(await asyncio.gather(*(check.get_result(executor) for check in self.get_checks())))

    def get_checks(self) -> Iterator[ComponentCheck]:
        for check in super().get_checks():
            assert isinstance(check, ComponentCheck)
            yield check


def live_view(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 whenever this process serves requests; no database or worker check."""
    body = {
        "status": "alive",
        "timestamp": rfc3339(),
        "uptime_seconds": round(buildinfo.uptime_seconds(), 3),
        "version": buildinfo.version(),
    }
    return _quiet(JsonResponse(body))


class HealthView(_ProbeView):
    """Overall status: 200 when healthy or degraded, 503 when a critical component is unhealthy."""

    checks = (ServerCheck, DatabaseCheck, WorkersCheck, MigrationsCheck)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        results = await self.run_checks()
        reports = [_report(result) for result in results]
        statuses = {
            _overall(result, report["status"]) for result, report in zip(results, reports, strict=True)
        }
        overall = UNHEALTHY if UNHEALTHY in statuses else DEGRADED if DEGRADED in statuses else HEALTHY
        body = {
            "status": overall,
            "timestamp": rfc3339(),
            "uptime_seconds": round(buildinfo.uptime_seconds(), 3),
            "version": buildinfo.version(),
            "checks": {report["name"]: report for report in reports},
        }
        return _quiet(JsonResponse(body, status=503 if overall == UNHEALTHY else 200))


class ReadyView(_ProbeView):
    """Readiness: 503 while the database is unreachable or migrations are pending."""

    checks = (DatabaseCheck, MigrationsCheck)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        results = await self.run_checks()
        reports = [_report(result) for result in results]
        failed = [report for report in reports if report["status"] != HEALTHY]
        message = (
            "; ".join(f"{report['name']}: {report['message']}" for report in failed) or "Service is ready"
        )
        body = {"ready": not failed, "timestamp": rfc3339(), "message": message}
        return _quiet(JsonResponse(body, status=503 if failed else 200))
