"""Request id, body-size limit, credential-in-URL guard, security headers and the audit trail of writes."""

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from innominatus import logcontext
from innominatus.accounts import audit
from innominatus.accounts.network import client_ip
from innominatus.problems import json_problem

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Query parameters that would put a credential into access logs, browser history and Referer headers.
CREDENTIAL_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "token", "access_token", "key_secret"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_ADMIN_ACTIONS = {"add": "create", "change": "update", "delete": "delete"}
_METHOD_ACTIONS = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}
_ROUTE_SUFFIXES = ("-list", "-detail")
Handler = Callable[[HttpRequest], HttpResponse]


class RequestContextMiddleware:
    """Gives every request an id (X-Request-ID, echoed back), refuses oversized bodies and URL credentials."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        info = audit.RequestInfo(
            request_id=request_id,
            client_ip=client_ip(request),
            method=request.method or "",
            path=request.path,
        )
        token = audit.bind(info)
        try:
            with logcontext.bind(request_id=request_id):
                response = self._guarded(request)
        finally:
            audit.unbind(token)
        response["X-Request-ID"] = request_id
        return response

    def _guarded(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if not length.isdigit():
            return json_problem(request, 400, "The Content-Length header is not a number.")
        if limit is not None and int(length) > limit:
            return json_problem(request, 413, f"The request body exceeds the limit of {limit} bytes.")
        if request.path.startswith("/api/") and CREDENTIAL_PARAMETERS & {k.lower() for k in request.GET}:
            return json_problem(
                request, 400, "Credentials are not accepted in the URL; send `Authorization: Bearer <key>`."
            )
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy, Permissions-Policy and no-store on API answers (the rest is Django's)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        if request.path.startswith("/api/"):
            response.setdefault("Cache-Control", "no-store")
        return response


def _describe(request: HttpRequest, response: HttpResponse) -> tuple[str, str, str]:
    """(action, object type, object id) of a write, from its route and, for creations, its answer."""
    method = request.method or ""
    match = request.resolver_match
    action, object_type, object_id = _METHOD_ACTIONS.get(method, method.lower()), "", ""
    if match is None:
        return action, object_type, object_id
    url_name = match.url_name or ""
    if match.kwargs:
        object_id = str(next(iter(match.kwargs.values())))
    if match.app_name == "admin" or match.namespace == "admin":
        parts = url_name.rsplit("_", 1)
        if len(parts) == 2 and parts[1] in _ADMIN_ACTIONS:
            object_type, action = parts[0].replace("_", ".", 1), _ADMIN_ACTIONS[parts[1]]
        return action, object_type, object_id
    for suffix in _ROUTE_SUFFIXES:
        if url_name.endswith(suffix):
            return action, url_name[: -len(suffix)], object_id or _created_id(response)
    if "-" in url_name:
        object_type, custom = url_name.split("-", 1)
        return custom.replace("-", "_"), object_type, object_id
    return action, url_name, object_id


def _created_id(response: HttpResponse) -> str:
    """The id of what a POST created: from the answer's id/name, else its Location header."""
    data: Any = getattr(response, "data", None)
    for candidate in (data, data.get("application") if isinstance(data, dict) else None):
        if isinstance(candidate, dict):
            for key in ("id", "name", "pk"):
                if key in candidate and isinstance(candidate[key], str | int):
                    return str(candidate[key])
    location = response.get("Location", "")
    return location.rstrip("/").rsplit("/", 1)[-1] if location else ""


class AuditMiddleware:
    """Records every write (API, admin, portal) after it is answered, unless a service already did."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method in SAFE_METHODS or not request.path.startswith(settings.AUDIT_PATH_PREFIXES):
            return response
        info = audit.current()
        user = getattr(request, "user", None)
        is_user = bool(user is not None and user.is_authenticated)
        method = getattr(request, "innominatus_auth", "session" if is_user else "")
        if info is not None and info.recorded:
            # Explicit events (sign-ins, key changes) already describe this request; add the outcome.
            from innominatus.accounts.models import AuditEvent

            AuditEvent.objects.filter(pk__in=info.recorded, status_code__isnull=True).update(
                status_code=response.status_code
            )
            return response
        action, object_type, object_id = _describe(request, response)
        match = request.resolver_match
        audit.record(
            action,
            user=user,
            object_type=object_type,
            object_id=object_id,
            status_code=response.status_code,
            auth_method=method,
            summary={"route": match.view_name if match else "", "query": request.GET.urlencode()[:500]},
        )
        return response
