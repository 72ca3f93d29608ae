"""RFC 7807 problem+json errors for the whole API, with a field path for every problem."""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Errors that mean "the database cannot be reached right now": 503 with Retry-After, never 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
MAINTENANCE_RETRY_AFTER_SECONDS = 30
DATABASE_RETRY_AFTER_SECONDS = 10


class ProblemError(exceptions.APIException):
    """An API error that carries a list of field-level problems."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is invalid."
    default_code = "invalid"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Iterable[Mapping[str, Any]] = (),
        status_code: int | None = None,
        title: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail or self.default_detail, code or self.default_code)
        if status_code is not None:
            self.status_code = status_code
        self.errors = [dict(error) for error in errors]
        self.title = title


class PayloadTooLarge(ProblemError):
    """The request body is over the configured size limit."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class Conflict(ProblemError):
    """The request conflicts with the current state of the resource."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _flatten(detail: Any, path: str = "") -> list[dict[str, str]]:
    """Turn DRF's nested error detail into a flat list of {path, message, code}."""
    if isinstance(detail, Mapping):
        found: list[dict[str, str]] = []
        for key, value in detail.items():
            child = str(key) if not path else f"{path}.{key}"
            if key == "non_field_errors":
                child = path
            found.extend(_flatten(value, child))
        return found
    if isinstance(detail, list):
        found = []
        for index, value in enumerate(detail):
            is_leaf = isinstance(value, str)
            found.extend(_flatten(value, path if is_leaf else f"{path}[{index}]"))
        return found
    code = getattr(detail, "code", "invalid")
    return [{"path": path, "message": str(detail), "code": str(code)}]


def problem_response(
    *,
    status_code: int,
    title: str,
    detail: str,
    instance: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    if code:
        body["code"] = code
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=dict(headers or {}))
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def unavailable(error: BaseException) -> tuple[str, str, int]:
    """(detail, code, Retry-After seconds) of the 503 for a database error; a restore says so."""
    if getattr(error, "maintenance", False):
        return (
            "A database restore is in progress; try again shortly.",
            "maintenance",
            MAINTENANCE_RETRY_AFTER_SECONDS,
        )
    logger.warning("database unavailable", extra={"error": str(error)[:200]})
    return (
        "The database is unreachable; try again shortly.",
        "database_unavailable",
        DATABASE_RETRY_AFTER_SECONDS,
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler that answers every error as RFC 7807 problem+json."""
    request = context.get("request")
    instance = request.get_full_path() if request is not None else ""
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(str(exc) or None)
    if isinstance(exc, ProblemError):
        return problem_response(
            status_code=exc.status_code,
            title=exc.title or _title(exc.status_code),
            detail=str(exc.detail),
            instance=instance,
            errors=exc.errors,
            code=str(getattr(exc.detail, "code", "") or exc.default_code),
        )
    if isinstance(exc, DATABASE_UNAVAILABLE):
        detail, code, retry_after = unavailable(exc)
        return problem_response(
            status_code=503,
            title="Service Unavailable",
            detail=detail,
            instance=instance,
            headers={"Retry-After": str(retry_after)},
            code=code,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        logger.error("unhandled API error", extra={"path": instance}, exc_info=exc)
        return problem_response(
            status_code=500,
            title="Internal Server Error",
            detail="An unexpected error occurred; it has been logged.",
            instance=instance,
        )
    assert isinstance(exc, exceptions.APIException)
    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = "The request is invalid; see errors for each field."
    else:
        detail = str(exc.detail) if not isinstance(exc.detail, list | dict) else _title(response.status_code)
    headers = {k: v for k, v in response.headers.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return problem_response(
        status_code=response.status_code,
        title=_title(response.status_code),
        detail=detail,
        instance=instance,
        errors=errors,
        headers=headers,
        code=exc.default_code,
    )


def json_problem(
    request: HttpRequest, status_code: int, detail: str, *, code: str | None = None
) -> JsonResponse:
    """A problem+json response for plain Django views (404/500 handlers outside DRF)."""
    body = {
        "type": "about:blank",
        "title": _title(status_code),
        "status": status_code,
        "detail": detail,
        "instance": request.get_full_path(),
    }
    if code:
        body["code"] = code
    return JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def unavailable_response(request: HttpRequest, error: BaseException) -> JsonResponse:
    """503 problem+json with Retry-After for a request that could not reach the database."""
    detail, code, retry_after = unavailable(error)
    response = json_problem(request, 503, detail, code=code)
    response["Retry-After"] = str(retry_after)
    return response
