"""`POST /api/auth/token`: a password (or a provider token) becomes a named API key, behind the lock-out."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from innominatus.accounts.models import ApiKey, AuditEvent


def _token(body: dict[str, Any], ip: str = "10.9.0.1", **headers: Any) -> Any:
    return APIClient().post("/api/auth/token", body, format="json", REMOTE_ADDR=ip, **headers)


@pytest.mark.django_db
def test_password_is_exchanged_for_a_named_key_that_works(make_user: Any) -> None:
    make_user("alice")
    response = _token({"username": "alice", "password": "pw-alice", "name": "laptop"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "laptop" and body["key"].startswith("inn_")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['key']}")
    assert client.get("/api/profile").json()["username"] == "alice"
    assert ApiKey.objects.get(user__username="alice").name == "laptop"
    assert AuditEvent.objects.filter(action="api_key_created", username="alice").exists()
    # The same name again is a conflict, not a second key.
    again = _token({"username": "alice", "password": "pw-alice", "name": "laptop"})
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_wrong_password_is_refused_counted_and_locks_out(make_user: Any, settings: Any) -> None:
    make_user("bob")
    wrong = _token({"username": "bob", "password": "nope", "name": "ci"})
    assert wrong.status_code == 401
    assert wrong["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.filter(action="login_failed", username="bob").exists()
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        _token({"username": "bob", "password": "guess", "name": "ci"}, ip=f"10.9.1.{attempt}")
    locked = _token({"username": "bob", "password": "pw-bob", "name": "ci"}, ip="10.9.2.1")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert not ApiKey.objects.filter(user__username="bob").exists()
    # The same lock holds for the session login: one lock-out, whichever door is used.
    session = APIClient().post(
        "/api/login", {"username": "bob", "password": "pw-bob"}, format="json", REMOTE_ADDR="10.9.2.2"
    )
    assert session.status_code == 429


@pytest.mark.django_db
def test_missing_fields_and_bad_names_are_field_problems(make_user: Any) -> None:
    make_user("carol")
    missing = _token({"name": "x"})
    assert missing.status_code == 400
    assert [e["path"] for e in missing.json()["errors"]] == ["username"]
    bad = _token({"username": "carol", "password": "pw-carol", "name": "a/b"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["path"] == "name"


@pytest.mark.django_db
def test_an_api_key_cannot_mint_a_key(make_user: Any) -> None:
    make_user("dan")
    key = _token({"username": "dan", "password": "pw-dan", "name": "first"}).json()["key"]
    refused = _token({"name": "second"}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert refused.status_code == 403
    assert list(ApiKey.objects.filter(user__username="dan").values_list("name", flat=True)) == ["first"]


@pytest.mark.django_db
def test_login_throttle_applies(make_user: Any, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/min"}
    make_user("erin")
    codes = [
        _token({"username": "erin", "password": "pw-erin", "name": f"k{n}"}, ip="10.9.3.3").status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]
