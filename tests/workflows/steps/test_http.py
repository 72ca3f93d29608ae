"""Tests for the http step against a real local HTTP(S) server, and its SSRF guard."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import urllib3.util.connection

from tests.workflows.steps.helpers import StopSwitch, make_ctx, recorder
from workflows.steps.base import StepStopped
from workflows.steps.http import MAX_BODY_BYTES, HttpStep, extract
from workflows.steps.netguard import AllowList, is_public

LOCAL = ["127.0.0.1"]


class Handler(BaseHTTPRequestHandler):
    """Routes: /json, /echo, /status/<n>, /redirect?to=<url>, /big, /slow."""

    requests: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(
        self, status: int, body: bytes, content_type: str = "application/json", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        self.server.seen.append(  # type: ignore[attr-defined]
            {"method": self.command, "path": parts.path, "headers": dict(self.headers), "body": body}
        )
        if parts.path == "/json":
            self._reply(200, json.dumps({"data": {"items": [{"id": 7}, {"id": 8}]}, "name": "shop"}).encode())
        elif parts.path == "/echo":
            self._reply(201, json.dumps({"method": self.command, "body": body.decode()}).encode())
        elif parts.path.startswith("/status/"):
            self._reply(int(parts.path.rsplit("/", 1)[1]), b'{"error": "nope"}')
        elif parts.path == "/redirect":
            self._reply(302, b"", Location=parse_qs(parts.query)["to"][0])
        elif parts.path == "/big":
            self._reply(200, b"x" * (MAX_BODY_BYTES + 1), "text/plain")
        elif parts.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"tick\n" * 1000)
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                pass
        else:
            self._reply(404, b"{}")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def start_server(tls: ssl.SSLContext | None = None) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.seen = []  # type: ignore[attr-defined]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    yield from start_server()


def base(server: ThreadingHTTPServer, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{server.server_address[1]}"


def call(tmp_path: Path, config: dict, allowlist: list[str] | None = None, **kwargs: Any):
    ctx = make_ctx(tmp_path, config, step_type="http", **kwargs)
    return ctx, HttpStep(allowlist=allowlist).run(ctx)


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly if the step opens any connection."""
    attempts: list[Any] = []

    def refuse(address: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        raise AssertionError(f"connection attempted to {address}")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse)
    monkeypatch.setattr(urllib3.connection.connection, "create_connection", refuse)
    return attempts


def test_get_maps_json_paths_to_outputs(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    config = {
        "url": base(server) + "/json",
        "outputs": {"first": "data.items[0].id", "name": "$.name", "all": "$"},
    }
    ctx, result = call(tmp_path, config, LOCAL)
    assert result.status == "completed", result.error
    assert result.outputs["status_code"] == 200
    assert result.outputs["first"] == 7
    assert result.outputs["name"] == "shop"
    assert result.outputs["all"]["data"]["items"][1] == {"id": 8}
    assert recorder(ctx).lines()[0].startswith(f"GET {base(server)}/json -> 200")


def test_post_sends_json_body_and_headers(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    config = {
        "method": "post",
        "url": base(server) + "/echo",
        "headers": {"Authorization": "Bearer t0ken"},
        "body": {"app": "shop", "replicas": 2},
        "expected_status": [200, 201],
        "outputs": {"echoed": "body"},
    }
    _, result = call(tmp_path, config, LOCAL)
    assert result.status == "completed", result.error
    assert json.loads(result.outputs["echoed"]) == {"app": "shop", "replicas": 2}
    request = server.seen[-1]  # type: ignore[attr-defined]
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == "Bearer t0ken"


def test_every_attempt_of_a_step_sends_the_same_idempotency_key(
    tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    keys = []
    for attempt in (1, 2):
        ctx = make_ctx(tmp_path, {"method": "post", "url": base(server) + "/echo"}, step_type="http")
        ctx.attempt, ctx.step_id = attempt, 12
        assert HttpStep(allowlist=LOCAL).run(ctx).status == "completed"
        keys.append(server.seen[-1]["headers"]["Idempotency-Key"])  # type: ignore[attr-defined]
    assert keys == ["wf-test1234/12", "wf-test1234/12"]
    other = make_ctx(
        tmp_path, {"url": base(server) + "/echo", "headers": {"idempotency-key": "mine"}}, step_type="http"
    )
    HttpStep(allowlist=LOCAL).run(other)
    sent = {k.lower(): v for k, v in server.seen[-1]["headers"].items()}  # type: ignore[attr-defined]
    assert sent["idempotency-key"] == "mine"


def test_unexpected_status_fails_and_reports_it(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    ctx, result = call(tmp_path, {"url": base(server) + "/status/503"}, LOCAL)
    assert result.status == "failed"
    assert result.error == "unexpected status 503 (expected 2xx)"
    assert result.outputs == {"status_code": 503}
    assert '{"error": "nope"}' in recorder(ctx).lines("stderr")
    _, result = call(tmp_path, {"url": base(server) + "/status/404", "expected_status": "404"}, LOCAL)
    assert result.status == "completed"


def test_missing_output_path_fails(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    _, result = call(tmp_path, {"url": base(server) + "/json", "outputs": {"x": "data.items[5].id"}}, LOCAL)
    assert result.status == "failed"
    assert "'data.items[5].id' is not in the response" in result.error


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/",
        "http://localhost:9/",
        "http://0.0.0.0:9/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",
        "http://[::ffff:127.0.0.1]:9/",
        "http://[fe80::1]/",
        "http://127.1:9/",
    ],
)
def test_private_destinations_are_refused_before_connecting(
    tmp_path: Path, url: str, no_connections: list[Any]
) -> None:
    _, result = call(tmp_path, {"url": url})
    assert result.status == "failed"
    assert "refusing to connect" in result.error
    assert no_connections == []


def test_allow_private_config_is_not_enough(tmp_path: Path, no_connections: list[Any]) -> None:
    _, result = call(tmp_path, {"url": "http://10.0.0.1/", "allow_private": True})
    assert result.status == "failed"
    assert "allow_private is not supported" in result.error
    assert no_connections == []


def test_allowlist_from_settings(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    from django.conf import settings
    from django.test import override_settings

    if not os.environ.get("DJANGO_SETTINGS_MODULE") and not settings.configured:
        settings.configure()
    with override_settings(HTTP_STEP_ALLOWLIST=["127.0.0.0/8"]):
        _, result = call(tmp_path, {"url": base(server) + "/json"})
    assert result.status == "completed", result.error
    _, refused = call(tmp_path, {"url": base(server) + "/json"})
    assert refused.status == "failed"


def test_allowlisted_host_name_keeps_host_header(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    _, result = call(tmp_path, {"url": base(server, "localhost") + "/json"}, ["localhost"])
    assert result.status == "completed", result.error
    assert server.seen[-1]["headers"]["Host"] == f"localhost:{server.server_address[1]}"  # type: ignore[attr-defined]


def test_connects_to_the_checked_address_despite_dns_rebinding(
    tmp_path: Path, server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            lookups.append(host)
            answer = "127.0.0.1" if len(lookups) == 1 else "10.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    _, result = call(tmp_path, {"url": base(server, "rebind.test") + "/json"}, LOCAL)
    assert result.status == "completed", result.error
    assert lookups == ["rebind.test"]
    assert server.seen[-1]["headers"]["Host"] == f"rebind.test:{server.server_address[1]}"  # type: ignore[attr-defined]


def test_next_checked_address_is_tried_when_connecting_fails(
    tmp_path: Path, server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def two_addresses(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "dual.test":
            # Nothing listens on 127.0.0.2: the first connection is refused.
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    _, result = call(tmp_path, {"url": base(server, "dual.test") + "/json"}, ["127.0.0.0/8"])
    assert result.status == "completed", result.error


def test_redirects_are_not_followed_by_default(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    target = base(server) + "/json"
    _, result = call(tmp_path, {"url": base(server) + f"/redirect?to={target}"}, LOCAL)
    assert result.status == "failed"
    assert result.outputs == {"status_code": 302}


def test_followed_redirects_are_checked_at_every_hop(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    target = base(server) + "/json"
    config = {
        "url": base(server) + f"/redirect?to={target}",
        "follow_redirects": True,
        "outputs": {"n": "name"},
    }
    _, result = call(tmp_path, config, LOCAL)
    assert result.status == "completed", result.error
    assert result.outputs["n"] == "shop"
    evil = {"url": base(server) + "/redirect?to=http://169.254.169.254/latest/", "follow_redirects": True}
    _, refused = call(tmp_path, evil, LOCAL)
    assert refused.status == "failed"
    assert "169.254.169.254" in refused.error


def test_response_body_is_capped(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    _, result = call(tmp_path, {"url": base(server) + "/big"}, LOCAL)
    assert result.status == "failed"
    assert "exceeds" in result.error


def test_cancellation_while_reading_the_body(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    stop = StopSwitch()
    stop.stop_after(0.5, "cancelled by test")
    started = time.monotonic()
    with pytest.raises(StepStopped, match="cancelled by test"):
        call(tmp_path, {"url": base(server) + "/slow"}, LOCAL, stop=stop)
    assert time.monotonic() - started < 3


def test_credentials_and_query_are_not_logged(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    url = f"http://user:pa55@127.0.0.1:{server.server_address[1]}/json?token=abc"
    ctx, result = call(tmp_path, {"url": url}, LOCAL)
    assert result.status == "completed", result.error
    assert "pa55" not in recorder(ctx).text()
    assert "abc" not in recorder(ctx).text()
    assert server.seen[-1]["headers"]["Authorization"].startswith("Basic ")  # type: ignore[attr-defined]


def make_tls_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_https_pins_the_address_but_verifies_the_host_name(tmp_path: Path) -> None:
    context, cert_file = make_tls_context(tmp_path)
    for server in start_server(context):
        port = server.server_address[1]
        config = {
            "url": f"https://localhost:{port}/json",
            "ca_bundle": str(cert_file),
            "outputs": {"n": "name"},
        }
        _, result = call(tmp_path, config, ["localhost"])
        assert result.status == "completed", result.error
        assert result.outputs["n"] == "shop"
        # The certificate names localhost, not the address we connect to: a mismatch must fail.
        _, mismatch = call(tmp_path, {**config, "url": f"https://127.0.0.1:{port}/json"}, LOCAL)
        assert mismatch.status == "failed"
        assert "certificate" in mismatch.error.lower() or "ssl" in mismatch.error.lower()


def test_is_public_and_allowlist() -> None:
    assert is_public(ipaddress.ip_address("93.184.216.34"))
    assert is_public(ipaddress.ip_address("2606:4700::1111"))
    for private in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fd00::1",
    ):
        assert not is_public(ipaddress.ip_address(private)), private
    assert not is_public(ipaddress.ip_address("2002:7f00:1::"))  # 6to4 wrapping 127.0.0.1
    allow = AllowList.parse(["10.0.0.0/8", "*.svc.cluster.local", "gitea.internal", "::1"])
    assert allow.allows_ip(ipaddress.ip_address("10.9.8.7"))
    assert not allow.allows_ip(ipaddress.ip_address("11.0.0.1"))
    assert allow.allows_ip(ipaddress.ip_address("::1"))
    assert allow.allows_host("argocd.argocd.svc.cluster.local")
    assert allow.allows_host("Gitea.Internal.")
    assert not allow.allows_host("evil-gitea.internal")


def test_extract() -> None:
    document = {"a": {"b": [{"c": 1}, {"c": 2}]}, "list": [10, 20]}
    assert extract(document, "a.b[1].c") == 2
    assert extract(document, "$.a.b.0.c") == 1
    assert extract(document, "list[1]") == 20
    with pytest.raises(KeyError):
        extract(document, "a.missing")
    with pytest.raises(IndexError):
        extract(document, "list[9]")


def test_validate_config() -> None:
    step = HttpStep()
    assert step.validate_config({"url": "https://example.test/hook", "method": "POST"}) == []
    assert step.validate_config({"url": "{{ variables.hook }}"}) == []
    assert "config.url is required" in step.validate_config({})
    assert "config.url must be an http:// or https:// URL" in step.validate_config(
        {"url": "file:///etc/passwd"}
    )
    assert any(
        "config.method" in p for p in step.validate_config({"url": "http://x.test", "method": "TRACE"})
    )
    assert any(
        "expected_status" in p
        for p in step.validate_config({"url": "http://x.test", "expected_status": [99]})
    )
