"""`login --sso`: the OIDC authorization-code flow with PKCE (S256) on a loopback listener.

The server tells which provider and public client to use (GET /api/auth/token). The browser signs
in at the provider, which redirects to http://127.0.0.1:<port>/callback here; the code is exchanged
with the code verifier (no client secret), and the provider's id token is then exchanged for an
innominatus API key (POST /api/auth/token with `Authorization: Bearer <id token>`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import click
import requests

from innominatus.cli.client import TIMEOUT, Client
from innominatus.cli.errors import AUTH, UNAVAILABLE, CliError

WAIT_SECONDS = 300


class _Callback(BaseHTTPRequestHandler):
    """Receives the provider's redirect once and answers the browser with a short page."""

    result: dict[str, str]
    done: threading.Event

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/callback":
            self.send_error(404)
            return
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        type(self).result.update(query)
        ok = "code" in query
        message = (
            "Signed in. You can close this window."
            if ok
            else "Sign-in failed: "
            + html.escape(query.get("error_description") or query.get("error") or "no code")
        )
        body = f"<!doctype html><title>innominatus-ctl</title><p>{message}</p>".encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        type(self).done.set()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(response: requests.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        detail = (
            body.get("error_description") or body.get("error")
            if isinstance(body, dict)
            else response.text[:200]
        )
        raise CliError(f"{what} failed ({response.status_code}): {detail}", exit_code=AUTH)
    return body


def sso_token(api: Client, *, open_browser: bool = True) -> str:
    """Run the code flow against the server's provider; returns the provider's id token."""
    options = api.get("/api/auth/token", require_auth=False)
    if "oidc" not in (options.get("methods") or []):
        raise CliError(f"{api.server} does not offer single sign-on; use `login` with a password")
    issuer = str(options["oidc_issuer"]).rstrip("/")
    try:
        metadata = _json(
            requests.get(f"{issuer}/.well-known/openid-configuration", timeout=TIMEOUT), "provider discovery"
        )
    except requests.RequestException as exc:
        raise CliError(f"cannot reach the sign-in provider {issuer}: {exc}", exit_code=UNAVAILABLE) from None

    verifier = secrets.token_urlsafe(64)
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    result: dict[str, str] = {}
    done = threading.Event()
    # A handler class of its own per login: http.server builds a handler instance per request.
    handler = type("Callback", (_Callback,), {"result": result, "done": done})
    listener = HTTPServer(("127.0.0.1", 0), handler)
    redirect_uri = f"http://127.0.0.1:{listener.server_port}/callback"
    query = {
        "response_type": "code",
        "client_id": options["oidc_client_id"],
        "redirect_uri": redirect_uri,
        "scope": options.get("oidc_scopes") or "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64url(hashlib.sha256(verifier.encode("ascii")).digest()),
        "code_challenge_method": "S256",
    }
    url = f"{metadata['authorization_endpoint']}?{urlencode(query)}"
    thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        click.echo(f"Sign in at: {url}", err=True)
        if open_browser:
            webbrowser.open(url)
        click.echo(f"Waiting for the sign-in to finish (up to {WAIT_SECONDS // 60} minutes)…", err=True)
        deadline = time.monotonic() + WAIT_SECONDS
        while not done.wait(0.2):
            if time.monotonic() > deadline:
                raise CliError("sign-in timed out: nobody finished it in the browser", exit_code=AUTH)
    finally:
        listener.shutdown()
        listener.server_close()
    if result.get("state") != state:
        raise CliError("sign-in refused: the answer does not belong to this request (state)", exit_code=AUTH)
    if "code" not in result:
        raise CliError(
            f"sign-in failed: {result.get('error_description') or result.get('error')}", exit_code=AUTH
        )
    exchange = {
        "grant_type": "authorization_code",
        "code": result["code"],
        "redirect_uri": redirect_uri,
        "client_id": options["oidc_client_id"],
        "code_verifier": verifier,
    }
    if options.get("oidc_client_secret"):
        # An installed-application secret some providers require (RFC 8252 8.5); not confidential.
        exchange["client_secret"] = options["oidc_client_secret"]
    try:
        response = requests.post(metadata["token_endpoint"], data=exchange, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise CliError(f"cannot reach the sign-in provider: {exc}", exit_code=UNAVAILABLE) from None
    tokens = _json(response, "token exchange")
    token = tokens.get("id_token")
    if not token:
        raise CliError("the provider returned no id token (is `openid` among the scopes?)", exit_code=AUTH)
    return str(token)
