"""A small Kubernetes API server over real HTTP, enough for the official client and its dynamic client."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from .discovery import (
    Catalogue,
    ResourceType,
    api_group,
    api_group_list,
    api_resource_list,
    api_versions,
    version_info,
)
from .rbac import Attributes, Authorizer, forbidden, request_verb
from .store import ApiError, Store

APPLY = "application/apply-patch+yaml"
MERGE_TYPES = ("application/merge-patch+json", "application/strategic-merge-patch+json")
REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


@dataclass
class RequestRecord:
    """One request the server received, for tests to assert on."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any = None


@dataclass
class Fault:
    """An injected failure answered instead of the next matching resource request(s)."""

    status: int
    message: str
    method: str | None = None
    path_contains: str | None = None
    remaining: int = 1

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


@dataclass
class Target:
    """A parsed resource URL."""

    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None = None


@dataclass
class ServerState:
    """What handler threads share: the store, auth, faults and the request log."""

    catalogue: Catalogue
    store: Store
    git_version: str = "v1.37.0"
    token: str | None = None
    # With an authorizer, bearer tokens map to users (ServiceAccounts) and RBAC decides; `token`
    # stays the cluster administrator's.
    authorizer: Authorizer | None = None
    users: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                    return fault
        return None


def parse_target(catalogue: Catalogue, parts: list[str]) -> Target | None:
    """Resolve /api/v1/... or /apis/<group>/<version>/... segments to a resource type and object."""
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if len(rest) >= 3 and rest[0] == "namespaces":
        rt = catalogue.by_path(group, version, rest[2])
        if rt is not None and rt.namespaced:
            return Target(rt, rest[1], rest[3] if len(rest) > 3 else None, rest[4] if len(rest) > 4 else None)
    if not rest:
        return None
    rt = catalogue.by_path(group, version, rest[0])
    if rt is None or len(rest) > 3:
        return None
    return Target(rt, None, rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None)


class Handler(BaseHTTPRequestHandler):
    """Routes discovery and resource requests; every failure is a Status body, as from a real server."""

    protocol_version = "HTTP/1.1"
    # Keep-alive plus Nagle's algorithm would delay every response by the peer's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, code: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _fail(self, error: ApiError) -> None:
        self._send(error.code, error.status_body())

    def _read_body(self, content_type: str) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return yaml.safe_load(raw) if content_type == APPLY else json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            raise ApiError(400, "BadRequest", f"the request body is not valid: {exc}") from exc

    def _handle(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            body = self._read_body(content_type) if method in ("POST", "PUT", "PATCH") else None
        except ApiError as error:
            self._fail(error)
            return
        with state.lock:
            state.requests.append(RequestRecord(method, url.path, query, content_type, body))
        user = ""
        if state.token is not None:
            auth = self.headers.get("Authorization") or ""
            scheme, _, token = auth.partition(" ")
            user = state.users.get(token, "") if scheme.lower() == "bearer" else ""
            if scheme.lower() != "bearer" or (token != state.token and not user):
                self._fail(ApiError(401, "Unauthorized", "Unauthorized"))
                return
        parts = [p for p in url.path.split("/") if p]
        try:
            discovery = self._discovery(parts) if method == "GET" else None
            if discovery is not None:
                self._send(200, discovery)
                return
            target = parse_target(state.catalogue, parts)
            if target is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if user and state.authorizer is not None:
                self._authorize(state.authorizer, user, method, target, query, content_type)
            fault = state.take_fault(method, url.path)
            if fault is not None:
                raise ApiError(fault.status, REASONS.get(fault.status, "InternalError"), fault.message)
            code, result = self._resource(method, target, query, content_type, body)
        except ApiError as error:
            self._fail(error)
            return
        self._send(code, result)

    def _authorize(
        self,
        authorizer: Authorizer,
        user: str,
        method: str,
        target: Target,
        query: dict[str, str],
        content_type: str,
    ) -> None:
        """Raise the API server's 403 unless RBAC allows the request (discovery is open to everyone)."""
        rt = target.rt
        resource = f"{rt.plural}/{target.subresource}" if target.subresource else rt.plural
        attrs = Attributes(
            user, request_verb(method, target.name, query), rt.group, resource, target.namespace, target.name
        )
        if not authorizer.allows(attrs):
            raise forbidden(attrs, rt)
        if method == "PATCH" and content_type == APPLY and target.name and not target.subresource:
            # An apply that creates the object needs `create` as well, as kube-apiserver checks.
            try:
                self.server.state.store.get(rt, target.namespace, target.name)
            except ApiError:
                create = Attributes(user, "create", rt.group, resource, target.namespace, target.name)
                if not authorizer.allows(create):
                    raise forbidden(create, rt) from None

    def _discovery(self, parts: list[str]) -> dict[str, Any] | None:
        catalogue = self.server.state.catalogue
        if parts == ["version"]:
            return version_info(self.server.state.git_version)
        if parts == ["api"]:
            return api_versions()
        if parts == ["api", "v1"]:
            return api_resource_list(catalogue, "", "v1")
        if parts == ["apis"]:
            return api_group_list(catalogue)
        if len(parts) == 2 and parts[0] == "apis":
            return api_group(catalogue, parts[1])
        if len(parts) == 3 and parts[0] == "apis" and catalogue.has_group_version(parts[1], parts[2]):
            return api_resource_list(catalogue, parts[1], parts[2])
        return None

    def _resource(
        self, method: str, target: Target, query: dict[str, str], content_type: str, body: Any
    ) -> tuple[int, dict[str, Any]]:
        store, rt, ns, name = self.server.state.store, target.rt, target.namespace, target.name
        manager = query.get("fieldManager") or "unknown"
        if target.subresource not in (None, "status"):
            raise ApiError(404, "NotFound", f"subresource {target.subresource!r} is not served")
        if target.subresource == "status" and method != "GET":
            raise ApiError(405, "MethodNotAllowed", "the fake server does not write status subresources")
        if name is None:
            if method == "GET":
                items, rv = store.list(rt, ns, query.get("labelSelector", ""), query.get("fieldSelector", ""))
                listing = {
                    "kind": f"{rt.kind}List",
                    "apiVersion": rt.api_version,
                    "metadata": {"resourceVersion": rv},
                }
                # A real server leaves kind and apiVersion off list items.
                stripped = [
                    {k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in items
                ]
                return 200, {**listing, "items": stripped}
            if method == "POST":
                return 201, store.create(rt, ns, body, manager)
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on a collection")
        if method == "GET":
            return 200, store.get(rt, ns, name)
        if method == "PUT":
            return 200, store.replace(rt, ns, name, body, manager)
        if method == "DELETE":
            return 200, store.delete(rt, ns, name)
        if method == "PATCH":
            if content_type == APPLY:
                if not query.get("fieldManager"):
                    raise ApiError(
                        422,
                        "Invalid",
                        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                        "is required for apply patch",
                    )
                force = query.get("force", "").lower() == "true"
                obj, created = store.apply(rt, ns, name, body, manager, force)
                return (201 if created else 200), obj
            if content_type in MERGE_TYPES:
                return 200, store.merge(rt, ns, name, body, manager)
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format: {content_type}",
            )
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ServerState) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state


def start_server(state: ServerState) -> tuple[_Server, threading.Thread, Callable[[], None]]:
    """Serve `state` on 127.0.0.1 (a free port) in a daemon thread; returns a stop function too."""
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fakekube", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return server, thread, stop
