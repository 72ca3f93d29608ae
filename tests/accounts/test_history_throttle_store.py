"""Throttle counters stay off the database's write path: Redis with REDIS_URL, an UNLOGGED table otherwise."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request

from innominatus.accounts.throttling import AnonRateThrottle

LIMIT = 5


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _request() -> Request:
    return Request(RequestFactory().get("/api/auth/config", REMOTE_ADDR="198.51.100.99"))


@pytest.mark.django_db(transaction=True)
def test_with_redis_the_limit_holds_across_threads_without_a_database_statement(
    settings: Any, redis_url: str
) -> None:
    settings.REDIS_URL = redis_url
    settings.THROTTLE_STORE = "auto"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "anon": f"{LIMIT}/min"}
    caches.close_all()
    barrier = threading.Barrier(20)
    allowed: list[bool] = []
    statements: list[int] = []

    def call() -> None:
        request = _request()
        barrier.wait(timeout=30)
        with CaptureQueriesContext(connection) as queries:
            allowed.append(AnonRateThrottle().allow_request(request, None))
        statements.append(len(queries.captured_queries))
        connection.close()

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert allowed.count(True) == LIMIT
    assert sum(statements) == 0
    refused = AnonRateThrottle()
    assert not refused.allow_request(_request(), None)
    assert 0 < (refused.wait() or 0) <= 60
    caches.close_all()


@pytest.mark.django_db
def test_without_redis_throttles_count_in_an_unlogged_table(settings: Any) -> None:
    settings.REDIS_URL = ""
    settings.THROTTLE_STORE = "auto"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "anon": f"{LIMIT}/min"}
    results = [AnonRateThrottle().allow_request(_request(), None) for _ in range(LIMIT + 1)]
    assert results == [True] * LIMIT + [False]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count FROM rate_limit_hits WHERE name LIKE %s", ["throttle:anon:%"])
        assert cursor.fetchone()[0] == LIMIT + 1
        cursor.execute("SELECT count(*) FROM rate_limit_counters WHERE name LIKE %s", ["throttle:%"])
        assert cursor.fetchone()[0] == 0
        if connection.vendor == "postgresql":
            cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'rate_limit_hits'")
            assert cursor.fetchone()[0] == "u"
