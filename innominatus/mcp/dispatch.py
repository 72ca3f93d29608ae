"""Calling a REST API view in-process, as the MCP caller, without an HTTP round trip.

The tool layer never re-implements an endpoint: it builds a request for the endpoint's URL, resolves
it with Django's URL resolver and runs the very view the API serves, with DRF's forced
authentication set to the user (and key) the /mcp request authenticated as. The view's permission
class, team-scoped querysets, serializers and exception handler therefore decide exactly as they do
for a REST client. Throttles are not applied again: the /mcp request that carries the call was
already counted against the caller's limits.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from rest_framework.utils.encoders import JSONEncoder

from innominatus.accounts import rbac

# What the inner request inherits from the /mcp request: host and scheme (for absolute links and the
# ALLOWED_HOSTS check), the client address (audit, logs) and the proxy headers settings trust.
_INHERITED_META = (
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "REMOTE_ADDR",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_REQUEST_ID",
    "wsgi.url_scheme",
)


@dataclass(frozen=True)
class Caller:
    """Who an MCP request acts for: the authenticated user, its credential and the outer request."""

    user: Any
    auth: Any = None
    request: HttpRequest | None = None
    auth_method: str = ""


@dataclass(frozen=True)
class ApiAnswer:
    """An API view's answer: status and JSON-compatible body."""

    status: int
    data: Any

    @property
    def ok(self) -> bool:
        return self.status < 400


def _meta(caller: Caller) -> dict[str, Any]:
    if caller.request is None:
        return {"HTTP_HOST": "localhost", "SERVER_NAME": "localhost", "SERVER_PORT": "80"}
    meta = caller.request.META
    return {key: meta[key] for key in _INHERITED_META if key in meta}


def _request(
    caller: Caller, method: str, path: str, query: str, body: bytes, content_type: str
) -> WSGIRequest:
    """A WSGI request as gunicorn would build it, for the inner call."""
    environ = {
        "wsgi.url_scheme": "http",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        **_meta(caller),
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    if body:
        environ["CONTENT_TYPE"] = content_type
    return WSGIRequest(environ)


def _body_of(response: HttpResponse) -> Any:
    data = getattr(response, "data", None)
    if data is not None:
        # DRF answers keep their Python data: serialise it the way the JSON renderer would.
        return json.loads(json.dumps(data, cls=JSONEncoder))
    content = getattr(response, "content", b"")
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")


def view_for(method: str, path: str) -> tuple[Any, Any]:
    """(view function without throttles, resolver match) of an API route."""
    match = resolve(path)
    func = match.func
    cls = getattr(func, "cls", None)
    if cls is None:
        return func, match
    initkwargs = {**getattr(func, "initkwargs", {}), "throttle_classes": ()}
    actions = getattr(func, "actions", None)
    view = cls.as_view(actions, **initkwargs) if actions is not None else cls.as_view(**initkwargs)
    return view, match


def required_permission(method: str, path: str) -> str | None:
    """The role permission the API declares for `method path` (None: undecided, i.e. closed)."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    func = match.func
    cls = getattr(func, "cls", None)
    if cls is None:
        return None
    actions = getattr(func, "actions", None) or {}
    action = actions.get(method.lower())
    decision = rbac.declared_decision(
        cls, basename=getattr(func, "initkwargs", {}).get("basename"), url_name=match.url_name
    )
    return rbac.permission_for(decision, action=action, method=method)


def call_api(
    caller: Caller,
    method: str,
    path: str,
    *,
    query: dict[str, Any] | None = None,
    body: Any = None,
    content_type: str = "application/json",
) -> ApiAnswer:
    """Run the API view behind `method path` as the caller and return its answer."""
    params = {k: ("true" if v is True else "false" if v is False else v) for k, v in (query or {}).items()}
    params = {k: v for k, v in params.items() if v is not None and v != ""}
    payload = b"" if body is None else body if isinstance(body, str | bytes) else json.dumps(body)
    raw = payload.encode() if isinstance(payload, str) else payload
    request = _request(caller, method.upper(), path, urlencode(params, doseq=True), raw, content_type)
    try:
        view, match = view_for(method, path)
    except Resolver404:
        return ApiAnswer(404, {"title": "Not Found", "status": 404, "detail": "No such endpoint."})
    request.resolver_match = match
    # DRF's Request honours these as ForcedAuthentication: the identity /mcp already established.
    request._force_auth_user = caller.user  # type: ignore[attr-defined]
    request._force_auth_token = caller.auth  # type: ignore[attr-defined]
    request.innominatus_auth = caller.auth_method  # type: ignore[attr-defined]
    response = view(request, *match.args, **match.kwargs)
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return ApiAnswer(response.status_code, _body_of(response))
