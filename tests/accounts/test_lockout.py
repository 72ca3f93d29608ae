"""The lock-out: per username with back-off, per client address, never everybody behind one proxy."""

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from innominatus.accounts import counters
from innominatus.accounts.models import RateCounter

INGRESS = "10.42.0.7"


def _login(username: str, password: str, client_ip: str, *, remote: str = INGRESS) -> Any:
    """/api/login as a client behind the ingress, which appends the client to X-Forwarded-For."""
    return APIClient().post(
        "/api/login",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=client_ip,
    )


def _age(key: str, seconds: float) -> None:
    """Move a counter's last failure into the past, as if `seconds` had passed."""
    RateCounter.objects.filter(name=key).update(last_hit=RateCounter.objects.get(name=key).last_hit - seconds)


@pytest.mark.django_db
def test_failures_behind_the_ingress_lock_neither_other_users_nor_other_clients(
    make_user: Any, settings: Any
) -> None:
    make_user("alice")
    make_user("bob")
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 3):
        _login("alice", "typo", "198.51.100.1")
    assert _login("alice", "pw-alice", "198.51.100.1").status_code == 429
    # Same ingress, other people: nobody else is locked out.
    assert _login("bob", "pw-bob", "198.51.100.2").status_code == 200
    assert _login("bob", "pw-bob", "198.51.100.1").status_code == 200


@pytest.mark.django_db
def test_an_untrusted_proxy_still_does_not_lock_everybody_at_the_username_limit(
    make_user: Any, settings: Any
) -> None:
    settings.TRUSTED_PROXIES = []
    make_user("bob")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        _login("alice", "typo", "198.51.100.1")
    assert _login("bob", "pw-bob", "198.51.100.2").status_code == 200


@pytest.mark.django_db
def test_username_lock_backs_off(make_user: Any, settings: Any) -> None:
    make_user("carol")
    key = "lockout:user:carol"
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        _login("carol", "guess", f"198.51.100.{attempt}")
    first = _login("carol", "pw-carol", "203.0.113.1")
    assert first.status_code == 429
    assert settings.LOGIN_LOCKOUT_SECONDS - 5 < int(first["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS
    expected = settings.LOGIN_LOCKOUT_SECONDS
    for _ in range(3):
        _age(key, expected + 1)
        # The lock has passed; one more wrong guess locks for twice as long.
        assert _login("carol", "guess", "203.0.113.2").status_code == 429
        expected = min(expected * 2, settings.LOGIN_FAILURE_WINDOW_SECONDS)
        retry = int(_login("carol", "pw-carol", "203.0.113.3")["Retry-After"])
        assert expected - 5 < retry <= expected
    _age(key, expected + 1)
    assert _login("carol", "pw-carol", "203.0.113.4").status_code == 200
    # Success clears the username's failures: the next typo does not lock again.
    assert _login("carol", "typo", "203.0.113.4").status_code == 401
    assert _login("carol", "pw-carol", "203.0.113.4").status_code == 200


@pytest.mark.django_db
def test_address_lock_refuses_that_client_only(make_user: Any, settings: Any) -> None:
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    make_user("dan")
    for attempt in range(6):
        _login(f"guess{attempt}", "spray", "198.51.100.9")
    assert _login("dan", "pw-dan", "198.51.100.9").status_code == 429
    assert _login("dan", "pw-dan", "198.51.100.10").status_code == 200


@pytest.mark.django_db
def test_login_page_uses_the_forwarded_client(make_user: Any, settings: Any) -> None:
    make_user("fay")
    make_user("gus")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        Client().post(
            "/login",
            {"username": "fay", "password": "bad"},
            REMOTE_ADDR=INGRESS,
            HTTP_X_FORWARDED_FOR="198.51.100.3",
        )
    refused = Client().post("/login", {"username": "fay", "password": "pw-fay"}, REMOTE_ADDR=INGRESS)
    assert b"Too many failed sign-ins" in refused.content
    ok = Client().post(
        "/login",
        {"username": "gus", "password": "pw-gus"},
        REMOTE_ADDR=INGRESS,
        HTTP_X_FORWARDED_FOR="198.51.100.3",
    )
    assert ok.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_concurrent_failures_are_all_counted() -> None:
    """Twelve threads on their own connections: a read-modify-write would lose some of the hits."""
    barrier = threading.Barrier(12)
    seen: list[int] = []

    def fail() -> None:
        try:
            barrier.wait(timeout=30)
            seen.append(counters.hit("lockout:user:target", 900, sliding=True).count)
        finally:
            connection.close()

    threads = [threading.Thread(target=fail) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(seen) == list(range(1, 13))
    assert RateCounter.objects.get(name="lockout:user:target").count == 12
