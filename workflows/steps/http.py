"""The `http` step: call a webhook or API (Argo CD, Gitea, Vault …) behind an SSRF guard.

Configuration: `method` (GET), `url`, `headers`, `body` (a string, or a mapping/list sent as
JSON), `expected_status` (an int or a list; default any 2xx), `timeout` (seconds or a duration,
default 30s, never beyond the step's own timeout), `outputs` ({name: path into the JSON
response}, e.g. `data.items[0].id`; `$` is the whole document), `follow_redirects` (false),
`ca_bundle` (a CA file for internal TLS). Outputs always include `status_code`. Every request
carries an `Idempotency-Key` header, the same for each attempt of the step (unless `headers` sets
one), so an API that honours it applies a request retried after a crash only once.

SSRF guard: the host is resolved and every address must be public; loopback, private,
link-local (cloud metadata), multicast, reserved and unspecified addresses are refused unless
the host name, the address or a CIDR containing it is on the allow-list (setting
`HTTP_STEP_ALLOWLIST`, plus the `allowlist` the step is built with). Nothing in a workflow can
widen it. The request then goes to the checked address itself (Host header and TLS SNI keep the
name), so a second DNS answer cannot redirect it (DNS rebinding). Redirects are refused unless
`follow_redirects` is set, and then each hop is checked the same way.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from workflows.engine.durations import parse_duration
from workflows.steps.base import Step, StepContext, StepResult
from workflows.steps.netguard import AllowList, BlockedDestination, check_destination, settings_allowlist

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
DEFAULT_TIMEOUT = 30.0
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
ERROR_BODY_CHARS = 2048
PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class HttpStep(Step):
    """Sends one HTTP request (following checked redirects on request) and maps the JSON response."""

    type_name = "http"

    def __init__(self, allowlist: Sequence[str] | None = None) -> None:
        self.extra_allowlist = list(allowlist or [])

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        url = config.get("url")
        if not url:
            problems.append("config.url is required")
        elif not isinstance(url, str):
            problems.append("config.url must be a string")
        elif "{{" not in url and urlsplit(url).scheme not in ("http", "https"):
            problems.append("config.url must be an http:// or https:// URL")
        method = config.get("method", "GET")
        if not isinstance(method, str) or method.upper() not in METHODS:
            problems.append(f"config.method must be one of {', '.join(METHODS)}")
        for key in ("headers", "outputs"):
            value = config.get(key)
            if value is not None and not isinstance(value, Mapping):
                problems.append(f"config.{key} must be a mapping")
        expected = config.get("expected_status")
        if expected is not None and not (isinstance(expected, str) and "{{" in expected):
            try:
                _statuses(expected)
            except ValueError:
                problems.append("config.expected_status must be a status code or a list of status codes")
        timeout = config.get("timeout")
        if timeout is not None and not (isinstance(timeout, str) and "{{" in timeout):
            try:
                parse_duration(timeout)
            except ValueError as exc:
                problems.append(f"config.timeout: {exc}")
        if "allow_private" in config:
            problems.append(
                "config.allow_private is not supported: private destinations must be on the "
                "HTTP_STEP_ALLOWLIST setting"
            )
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        config = ctx.config
        request = _Request(
            method=str(config.get("method", "GET")).upper(),
            url=str(config["url"]),
            headers={str(k): str(v) for k, v in (config.get("headers") or {}).items()},
        )
        # Every attempt of this step sends the same key, so a server that honours it applies a retried
        # request once; a key set in config.headers wins.
        if not any(k.lower() == "idempotency-key" for k in request.headers):
            request.headers["Idempotency-Key"] = ctx.idempotency_key()
        body = config.get("body")
        if isinstance(body, Mapping | list):
            request.data = json.dumps(body).encode()
            if not any(k.lower() == "content-type" for k in request.headers):
                request.headers["Content-Type"] = "application/json"
        elif body is not None:
            request.data = str(body).encode()
        timeout = parse_duration(config.get("timeout", DEFAULT_TIMEOUT))
        remaining = ctx.remaining()
        if remaining is not None:
            timeout = min(timeout, remaining)
        started = time.monotonic()
        with requests.Session() as session:
            # No proxies or .netrc from the worker's environment: the guard checked this exact destination.
            session.trust_env = False
            transport = _Transport(
                session=session,
                allowlist=AllowList.parse([*settings_allowlist(), *self.extra_allowlist]),
                timeout=timeout,
                verify=str(config["ca_bundle"]) if config.get("ca_bundle") else True,
            )
            try:
                response = _send_following(ctx, transport, request, _flag(config.get("follow_redirects")))
                with response:
                    content = _read_capped(ctx, response)
            except BlockedDestination as exc:
                return StepResult.fail(str(exc))
            except requests.RequestException as exc:
                return StepResult.fail(f"{request.method} {_display(request.url)} failed: {exc}")
        elapsed = (time.monotonic() - started) * 1000
        status = response.status_code
        ctx.log(
            f"{request.method} {_display(request.url)} -> {status} ({elapsed:.0f} ms, {len(content)} bytes)",
            "system",
        )
        expected = config.get("expected_status")
        if not _status_ok(status, expected):
            if content:
                ctx.log(content[:ERROR_BODY_CHARS].decode("utf-8", "replace"), "stderr")
            wanted = "2xx" if expected is None else str(expected)
            return StepResult.fail(f"unexpected status {status} (expected {wanted})", status_code=status)
        outputs: dict[str, Any] = {"status_code": status}
        mapping = config.get("outputs") or {}
        if mapping:
            try:
                document = json.loads(content)
            except ValueError:
                return StepResult.fail("config.outputs needs a JSON response, got something else", **outputs)
            for name, path in mapping.items():
                try:
                    outputs[str(name)] = extract(document, str(path))
                except (KeyError, IndexError, TypeError):
                    return StepResult.fail(f"output {name}: {path!r} is not in the response", **outputs)
        return StepResult.ok(**outputs)


@dataclass
class _Request:
    """One request; redirects rewrite it hop by hop."""

    method: str
    url: str
    headers: dict[str, str]
    data: bytes | None = None


@dataclass
class _Transport:
    """How requests are sent: one session, the allow-list, the timeout and TLS verification."""

    session: requests.Session
    allowlist: AllowList
    timeout: float
    verify: bool | str


def _send_following(
    ctx: StepContext, transport: _Transport, request: _Request, follow: bool
) -> requests.Response:
    """Send the request; with `follow`, follow redirects, checking every hop's destination."""
    for _hop in range(MAX_REDIRECTS + 1):
        ctx.raise_if_stopped()
        response = _send_pinned(transport, request)
        if not (follow and response.is_redirect):
            return response
        target = urljoin(request.url, response.headers["location"])
        response.close()
        hop = f"{request.method} {_display(request.url)} -> {response.status_code}"
        ctx.log(f"{hop}, redirected to {_display(target)}", "system")
        headers = request.headers
        method, data = request.method, request.data
        if response.status_code == 303 or (
            response.status_code in (301, 302) and method not in ("GET", "HEAD")
        ):
            method, data = "GET", None
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        if urlsplit(target).hostname != urlsplit(request.url).hostname:
            # Credentials meant for one host never travel to another.
            headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
        request.method, request.url, request.headers, request.data = method, target, headers, data
    raise BlockedDestination(f"more than {MAX_REDIRECTS} redirects")


class _PinnedHostAdapter(HTTPAdapter):
    """Connects to an address while TLS uses the original host name for SNI and certificate checks."""

    def __init__(self, server_hostname: str) -> None:
        self.server_hostname = server_hostname
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs["server_hostname"] = self.server_hostname
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def _send_pinned(transport: _Transport, request: _Request) -> requests.Response:
    """Check the destination, then send to a checked address (trying the next one if connecting fails)."""
    parts = urlsplit(request.url)
    addresses = check_destination(parts, transport.allowlist)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    headers = dict(request.headers)
    if not any(k.lower() == "host" for k in headers):
        headers["Host"] = (f"[{host}]" if ":" in host else host) + port
    if parts.username is not None and not any(k.lower() == "authorization" for k in headers):
        credentials = f"{parts.username}:{parts.password or ''}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
    if parts.scheme == "https":
        previous = transport.session.adapters.get("https://")
        transport.session.mount("https://", _PinnedHostAdapter(host))
        if previous is not None:
            previous.close()
    for index, address in enumerate(addresses):
        ip_host = f"[{address}]" if address.version == 6 else str(address)
        pinned = urlunsplit((parts.scheme, ip_host + port, parts.path or "/", parts.query, ""))
        try:
            return transport.session.request(
                request.method,
                pinned,
                headers=headers,
                data=request.data,
                timeout=transport.timeout,
                verify=transport.verify,
                allow_redirects=False,
                stream=True,
            )
        except requests.ConnectionError as exc:
            # Only a failure to connect is safe to retry elsewhere: nothing was sent yet.
            if index == len(addresses) - 1 or not _failed_to_connect(exc):
                raise
    raise BlockedDestination(f"{host} has no addresses")


def _failed_to_connect(exc: requests.ConnectionError) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectTimeout) or isinstance(
        reason, NewConnectionError | ConnectTimeoutError
    )


def _read_capped(ctx: StepContext, response: requests.Response) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BlockedDestination(f"response body of {declared} bytes exceeds the {MAX_BODY_BYTES} byte limit")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(64 * 1024):
        ctx.raise_if_stopped()
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BlockedDestination(f"response body exceeds the {MAX_BODY_BYTES} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def extract(document: Any, path: str) -> Any:
    """The value at a simple JSON path: `a.b[0].c` (also `a.b.0.c`); `$` or `` is the whole document."""
    path = path.strip()
    if path in ("", "$"):
        return document
    path = path.removeprefix("$").removeprefix(".")
    value = document
    for name, index in PATH_TOKEN.findall(path):
        if index:
            value = value[int(index)]
        elif isinstance(value, list):
            value = value[int(name)] if name.isdigit() else value[name]
        elif isinstance(value, Mapping):
            value = value[name]
        else:
            raise KeyError(name)
    return value


def _statuses(value: Any) -> list[int]:
    """Status codes from an int, a digit string (a rendered template) or a list of either."""
    codes = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, bool) or not isinstance(item, int | str) or not str(item).strip().isdigit():
            raise ValueError(f"{item!r} is not a status code")
        code = int(item)
        if not 100 <= code <= 599:
            raise ValueError(f"{code} is not a status code")
        codes.append(code)
    if not codes:
        raise ValueError("no status codes")
    return codes


def _status_ok(status: int, expected: Any) -> bool:
    if expected is None:
        return 200 <= status < 300
    return status in _statuses(expected)


def _flag(value: Any) -> bool:
    """A boolean option that may arrive as a rendered string ("true", "false")."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def _display(url: str) -> str:
    """The URL without credentials, query or fragment, safe to log."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))
