"""Streamable HTTP at /mcp, served by the same gunicorn/WSGI process as the API.

Choice: a DRF view authenticates (Bearer API key or OIDC token, or the session, exactly the API's
authentication classes), applies the API's throttles and role check, and then hands the request to
the MCP SDK's own Streamable HTTP transport in *stateless, JSON-response* mode, driven as an ASGI
call inside `async_to_sync`. Stateless means every POST carries a complete exchange (no session id,
no server-held stream), which suits several gunicorn workers and replicas behind a load balancer
with nothing shared in memory; JSON responses mean a plain request/response that a synchronous
worker answers without holding a connection open. The SDK keeps the protocol (versions, headers,
JSON-RPC framing, errors); this module only moves bytes between Django and the SDK's ASGI handler.
"""

from __future__ import annotations

import json
import logging
from collections.abc import MutableMapping
from typing import Any

import anyio
from asgiref.sync import async_to_sync
from django.http import HttpResponse
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from innominatus.accounts import audit, rbac
from innominatus.mcp.dispatch import Caller
from innominatus.mcp.server import build_server, current_caller

_SERVER = build_server()
# The SDK announces every per-request transport at INFO; in stateless mode that is one line per request.
for _name in ("mcp.server.streamable_http_manager", "mcp.server.streamable_http"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# Headers a proxy or Django owns; the rest of the SDK's answer is passed through.
_HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding"})


def _scope(request: Request, body: bytes) -> dict[str, Any]:
    django_request = request._request
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in django_request.headers.items()
    ]
    port = int(django_request.META.get("SERVER_PORT") or 80)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": django_request.method,
        "scheme": django_request.scheme,
        "path": django_request.path,
        "raw_path": django_request.path.encode(),
        "root_path": "",
        "query_string": django_request.META.get("QUERY_STRING", "").encode("latin-1"),
        "headers": headers,
        "server": (django_request.META.get("SERVER_NAME", "localhost"), port),
        "client": (django_request.META.get("REMOTE_ADDR", ""), 0),
    }


async def _serve(
    caller: Caller, scope: dict[str, Any], body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run one request through the SDK's stateless JSON-response transport and collect its answer."""
    current_caller.set(caller)
    answered = anyio.Event()
    received = False
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def receive() -> MutableMapping[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                answered.set()

    manager = StreamableHTTPSessionManager(app=_SERVER, json_response=True, stateless=True)
    async with manager.run():
        await manager.handle_request(scope, receive, send)
    return status, headers, b"".join(chunks)


class _SdkNegotiation(BaseContentNegotiation):
    """The SDK negotiates MCP's Accept rules itself; DRF only renders its own refusals (401, 429) as JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        renderer: BaseRenderer = renderers[0]
        return renderer, renderer.media_type


class McpView(APIView):
    """POST /mcp: one MCP JSON-RPC exchange as the authenticated caller (GET and DELETE: 405)."""

    # Any signed-in user may speak MCP; each tool is then allowed or refused as its API endpoint is.
    required_permissions = {"*": rbac.AUTHENTICATED}
    # The body is read raw and handed to the SDK; DRF must not parse it.
    parser_classes: list[Any] = []
    content_negotiation_class = _SdkNegotiation
    schema = None

    def _bridge(self, request: Request) -> HttpResponse:
        body = request._request.body
        caller = Caller(
            user=request.user,
            auth=request.auth,
            request=request._request,
            auth_method=getattr(request._request, "innominatus_auth", ""),
        )
        status, headers, content = async_to_sync(_serve)(caller, _scope(request, body), body)
        self._audit_protocol_request(caller, body, status)
        response = HttpResponse(content, status=status)
        for name, value in headers:
            key = name.decode("latin-1")
            if key.lower() not in _HOP_BY_HOP:
                response[key] = value.decode("latin-1")
        return response

    @staticmethod
    def _audit_protocol_request(caller: Caller, body: bytes, status: int) -> None:
        """A POST that ran no tool (initialize, tools/list, resources/read …) is audited by its methods,
        instead of the generic write the audit middleware would record for it."""
        info = audit.current()
        if info is None or info.recorded or caller.request is None or caller.request.method != "POST":
            return
        try:
            message = json.loads(body)
        except ValueError:
            message = None
        messages = message if isinstance(message, list) else [message]
        methods = sorted({str(m.get("method")) for m in messages if isinstance(m, dict) and m.get("method")})
        audit.record(
            "mcp.request",
            user=caller.user,
            object_type="mcp",
            object_id=",".join(methods)[:255],
            summary={"methods": methods},
            status_code=status,
            auth_method=caller.auth_method,
        )

    def post(self, request: Request) -> HttpResponse:
        return self._bridge(request)

    def get(self, request: Request) -> HttpResponse:
        # A stateless server offers no server-initiated stream; the spec's answer is 405. (Handing GET to
        # the SDK would open an event stream that holds a synchronous worker until the client leaves.)
        return _not_allowed("This server is stateless: it offers no event stream; POST JSON-RPC messages.")

    def delete(self, request: Request) -> HttpResponse:
        return _not_allowed("This server is stateless: there is no session to terminate.")


def _not_allowed(message: str) -> HttpResponse:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}
    response = HttpResponse(json.dumps(body), status=405, content_type="application/json")
    response["Allow"] = "POST"
    return response
