"""Small local stand-ins for the Gitea and Argo CD REST APIs, as strict as the real ones where the
steps depend on it: authentication, the JSON bodies they accept, and their status codes.

Gitea (v1 API): `POST /api/v1/orgs/{org}/repos` (201, 409 when it exists, 422 for a body without a
valid `name`, 404 for an unknown org), `GET|DELETE /api/v1/repos/{org}/{repo}` (200/204, 404);
`Authorization: token <t>` or basic auth, else 401.
Argo CD: `POST /api/v1/session` (username/password -> {"token"}), `POST /api/v1/applications[?upsert=true]`
(400 without spec.source.repoURL or spec.destination; 409 when it exists and upsert is not set),
`GET|PUT|DELETE /api/v1/applications/{name}`; `Authorization: Bearer <token>`, else 401.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Base(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, document: Any = None) -> None:
        body = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Type", "").split(";")[0] != "application/json" and raw:
            return None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    @property
    def state(self) -> dict[str, Any]:
        return self.server.state  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self.route()

    def do_POST(self) -> None:
        self.route()

    def do_PUT(self) -> None:
        self.route()

    def do_DELETE(self) -> None:
        self.route()

    def route(self) -> None:
        raise NotImplementedError


class GiteaHandler(_Base):
    def authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if header == f"token {self.state['token']}":
            return True
        expected = base64.b64encode(f"{self.state['user']}:{self.state['password']}".encode()).decode()
        return header == f"Basic {expected}"

    def route(self) -> None:
        self.state["requests"].append((self.command, self.path, dict(self.headers)))
        if not self.authorised():
            return self.reply(401, {"message": "token is required"})
        parts = urlsplit(self.path).path.strip("/").split("/")
        repos: dict[str, dict[str, Any]] = self.state["repos"]
        if self.command == "POST" and parts[:3] == ["api", "v1", "orgs"] and parts[4:] == ["repos"]:
            org, body = parts[3], self.body()
            if org not in self.state["orgs"]:
                return self.reply(404, {"message": "org does not exist"})
            if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
                return self.reply(422, {"message": "[Name]: Required"})
            unknown = set(body) - {"name", "description", "private", "auto_init", "default_branch"}
            if unknown or not isinstance(body.get("private", False), bool):
                return self.reply(422, {"message": f"invalid fields {sorted(unknown)}"})
            key = f"{org}/{body['name']}"
            if key in repos:
                return self.reply(409, {"message": "The repository with the same name already exists."})
            base = self.state["base"]
            repos[key] = {
                "full_name": key,
                "html_url": f"{base}/{key}",
                "clone_url": f"{base}/{key}.git",
                "ssh_url": f"git@gitea:{key}.git",
                "private": body.get("private", False),
            }
            return self.reply(201, repos[key])
        if parts[:3] == ["api", "v1", "repos"] and len(parts) == 5:
            key = f"{parts[3]}/{parts[4]}"
            if key not in repos:
                return self.reply(404, {"message": "not found"})
            if self.command == "GET":
                return self.reply(200, repos[key])
            if self.command == "DELETE":
                del repos[key]
                return self.reply(204)
        return self.reply(404, {"message": "not found"})


class ArgoHandler(_Base):
    def route(self) -> None:
        self.state["requests"].append((self.command, self.path, dict(self.headers)))
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        if self.command == "POST" and parts == ["api", "v1", "session"]:
            body = self.body() or {}
            if body.get("username") == self.state["user"] and body.get("password") == self.state["password"]:
                return self.reply(200, {"token": self.state["token"]})
            return self.reply(401, {"error": "Invalid username or password"})
        if self.headers.get("Authorization") != f"Bearer {self.state['token']}":
            return self.reply(401, {"error": "no session information"})
        apps: dict[str, Any] = self.state["apps"]
        if parts[:3] != ["api", "v1", "applications"]:
            return self.reply(404, {"error": "not found"})
        if self.command == "POST" and len(parts) == 3:
            app = self.body()
            problem = _invalid_application(app)
            if problem:
                return self.reply(400, {"error": problem})
            name = app["metadata"]["name"]
            upsert = parse_qs(url.query).get("upsert") == ["true"]
            if name in apps and not upsert:
                return self.reply(409, {"error": "existing application spec is different, use upsert flag"})
            apps[name] = {**app, "status": {"sync": {"status": "OutOfSync"}, "health": {"status": "Missing"}}}
            return self.reply(200, apps[name])
        name = parts[3] if len(parts) == 4 else ""
        if name not in apps:
            return self.reply(404, {"error": f'applications.argoproj.io "{name}" not found'})
        if self.command == "GET":
            return self.reply(200, apps[name])
        if self.command == "PUT":
            app = self.body()
            problem = _invalid_application(app)
            if problem:
                return self.reply(400, {"error": problem})
            apps[name] = {**app, "status": apps[name]["status"]}
            return self.reply(200, apps[name])
        if self.command == "DELETE":
            self.state["deleted"].append((name, parse_qs(url.query).get("cascade")))
            del apps[name]
            return self.reply(200, {})
        return self.reply(405, {"error": "method not allowed"})


def _invalid_application(app: Any) -> str:
    if not isinstance(app, dict) or app.get("kind") != "Application":
        return "expected an Application"
    if not isinstance(app.get("metadata"), dict) or not app["metadata"].get("name"):
        return "application name is required"
    spec = app.get("spec") or {}
    if not (spec.get("source") or {}).get("repoURL"):
        return "spec.source.repoURL is required"
    destination = spec.get("destination") or {}
    if not destination.get("server") or not destination.get("namespace"):
        return "spec.destination.server and namespace are required"
    return ""


@contextmanager
def serve(handler: type[_Base], **state: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Run a stand-in on 127.0.0.1; yields (base URL, its state)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    server.state = {"requests": [], "repos": {}, "apps": {}, "deleted": [], "base": base, **state}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, server.state  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
