"""Rate limits and the login lock-out hold across two real gunicorn workers sharing the database cache."""

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection

from innominatus.accounts import services

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn(transactional_db: Any, tmp_path: Path) -> Iterator[str]:
    """gunicorn with 2 sync workers on the test database and limits of 5 per minute."""
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "DB_HOST": str(django_settings.DATABASES["default"]["HOST"]),
        "DB_USER": str(django_settings.DATABASES["default"]["USER"]),
        "DB_NAME": str(connection.settings_dict["NAME"]),
        "SECRET_KEY": "gunicorn-test-secret-key",
        "DEBUG": "false",
        "SECURE_COOKIES": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "BIND_ADDRESS": "127.0.0.1",
        "PORT": str(port),
        "GUNICORN_WORKERS": "2",
        "RATE_LIMIT_ANON": f"{LIMIT}/min",
        "RATE_LIMIT_USER": f"{LIMIT}/min",
        "RATE_LIMIT_LOGIN": "100/min",
        "LOG_LEVEL": "warning",
        "GUNICORN_THREADS": "1",
        # A sync worker takes one connection at a time: what pins a request to each worker below.
        "GUNICORN_WORKER_CLASS": "sync",
    }
    env.pop("REDIS_URL", None)
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "-c",
        "innominatus/gunicorn_conf.py",
        "innominatus.wsgi:application",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not start:\n" + log.read_text())
        cache.clear()
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        cache.clear()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str]]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return int(head[0].split()[1]), headers


def _pair(
    port: int, path: str, headers: dict[str, str], *, method: str = "GET", body: bytes = b""
) -> list[int]:
    """One request to each worker: a half-sent request pins the first worker while the second answers."""
    headers = {**headers, "Content-Length": str(len(body))} if body else headers
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{extra}".encode()
    first = socket.create_connection(("127.0.0.1", port), timeout=30)
    second = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        first.sendall(request)
        time.sleep(0.3)  # a sync worker has accepted `first` and now waits for the rest of its headers
        second.sendall(request + b"\r\n" + body)
        statuses = [_read_response(second)[0]]
        first.sendall(b"\r\n" + body)
        statuses.append(_read_response(first)[0])
        return statuses
    finally:
        first.close()
        second.close()


def _hammer(url: str, path: str, headers: dict[str, str] | None = None) -> list[int]:
    """LIMIT + 1 requests on each of the two workers."""
    port = int(url.rsplit(":", 1)[1])
    statuses: list[int] = []
    for _ in range(LIMIT + 1):
        statuses.extend(_pair(port, path, headers or {}))
    return statuses


@pytest.mark.e2e
def test_anonymous_limit_is_shared_by_both_workers(gunicorn: str) -> None:
    url = gunicorn
    statuses = _hammer(url, "/api/auth/config")
    # Each worker answered more than LIMIT requests; per-process counters would have let 2 × LIMIT through.
    assert statuses.count(200) == LIMIT
    assert set(statuses) == {200, 429}
    last = requests.get(url + "/api/auth/config", timeout=10)
    assert last.status_code == 429
    assert 0 < int(last.headers["Retry-After"]) <= 60
    assert last.headers["Content-Type"] == "application/problem+json"


@pytest.mark.e2e
def test_a_concurrent_burst_on_both_workers_passes_exactly_the_limit(gunicorn: str) -> None:
    """Twenty requests at once from threads: each worker takes some, the shared counter lets LIMIT through."""
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def call() -> None:
        barrier.wait(timeout=30)
        statuses.append(requests.get(gunicorn + "/api/auth/config", timeout=60).status_code)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert len(statuses) == 20
    assert statuses.count(200) == LIMIT
    assert set(statuses) == {200, 429}


@pytest.mark.e2e
def test_user_limit_is_shared_by_both_workers(gunicorn: str, django_user_model: Any) -> None:
    url = gunicorn
    user = django_user_model.objects.create_user("busy", password="pw-busy")
    raw = services.create_api_key(user=user, name="load").raw_key
    statuses = _hammer(url, "/api/profile", {"Authorization": f"Bearer {raw}"})
    assert statuses.count(200) == LIMIT
    assert set(statuses) == {200, 429}


@pytest.mark.e2e
def test_lockout_after_the_failure_limit_across_workers(gunicorn: str, django_user_model: Any) -> None:
    port = int(gunicorn.rsplit(":", 1)[1])
    django_user_model.objects.create_user("target", password="right-password")
    json_headers = {"Content-Type": "application/json"}
    wrong = json.dumps({"username": "target", "password": "wrong"}).encode()
    right = json.dumps({"username": "target", "password": "right-password"}).encode()
    limit = django_settings.LOGIN_FAILURE_LIMIT
    statuses: list[int] = []
    while len(statuses) < limit:
        # Failures land on both workers; each alone has seen fewer than the limit.
        statuses.extend(_pair(port, "/api/login", json_headers, method="POST", body=wrong))
    assert statuses[: limit - 1] == [401] * (limit - 1)
    locked = _pair(port, "/api/login", json_headers, method="POST", body=right)
    assert locked == [429, 429]
    answer = requests.post(f"{gunicorn}/api/login", data=right, headers=json_headers, timeout=10)
    assert answer.status_code == 429
    # The first lock lasts LOGIN_LOCKOUT_SECONDS; further failures double it (tests/accounts/test_lockout.py).
    assert 0 < int(answer.headers["Retry-After"]) <= django_settings.LOGIN_LOCKOUT_SECONDS


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_pass_at_most_the_limit(settings: Any) -> None:
    """Twenty threads, each on its own database connection, hit one user's limit of 5 at once."""
    from django.test import RequestFactory
    from rest_framework.request import Request

    from innominatus.accounts.throttling import AnonRateThrottle

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "anon": f"{LIMIT}/min"}
    barrier = threading.Barrier(20)
    allowed: list[bool] = []

    def call() -> None:
        try:
            request = Request(RequestFactory().get("/api/auth/config", REMOTE_ADDR="198.51.100.77"))
            barrier.wait(timeout=30)
            allowed.append(AnonRateThrottle().allow_request(request, None))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(allowed) == 20
    assert allowed.count(True) == LIMIT
    refused = AnonRateThrottle()
    assert not refused.allow_request(Request(RequestFactory().get("/", REMOTE_ADDR="198.51.100.77")), None)
    assert 0 < (refused.wait() or 0) <= 60
