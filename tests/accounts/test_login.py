"""Local sign-in: /api/login for scripts, the login page and the admin, all behind the same lock-out."""

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from innominatus.accounts.models import AuditEvent


def _api_login(username: str, password: str, ip: str = "10.0.0.1") -> Any:
    return APIClient().post(
        "/api/login", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


@pytest.mark.django_db
def test_api_login_starts_a_session_with_csrf(make_user: Any) -> None:
    make_user("alice")
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/login", {"username": "alice", "password": "pw-alice"}, format="json")
    assert response.status_code == 200, response.content
    token = response.json()["csrf_token"]
    assert response.json()["username"] == "alice"
    assert client.get("/api/profile").json()["username"] == "alice"
    # Session writes need the CSRF token.
    assert client.post("/api/profile/api-keys", {"name": "x"}, format="json").status_code == 403
    created = client.post("/api/profile/api-keys", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201
    assert client.post("/api/logout", HTTP_X_CSRFTOKEN=token).status_code == 204
    assert client.get("/api/profile").status_code == 401
    actions = list(AuditEvent.objects.filter(username="alice").values_list("action", flat=True))
    assert {"login", "api_key_created", "logout"} <= set(actions)


@pytest.mark.django_db
def test_api_login_refuses_form_bodies_and_bad_passwords(make_user: Any) -> None:
    make_user("bob")
    form = APIClient().post("/api/login", {"username": "bob", "password": "pw-bob"})
    assert form.status_code == 415
    wrong = _api_login("bob", "nope")
    assert wrong.status_code == 401
    assert wrong["Content-Type"] == "application/problem+json"
    event = AuditEvent.objects.get(action="login_failed")
    assert (event.username, event.client_ip) == ("bob", "10.0.0.1")


@pytest.mark.django_db
def test_username_is_locked_after_five_failures_from_any_address(make_user: Any, settings: Any) -> None:
    make_user("carol")
    for attempt in range(settings.LOGIN_FAILURE_LIMIT):
        assert _api_login("carol", "guess", ip=f"10.0.1.{attempt}").status_code in (401, 429)
    locked = _api_login("carol", "pw-carol", ip="10.0.2.1")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW_SECONDS
    # Other users are not affected.
    make_user("dan")
    assert _api_login("dan", "pw-dan", ip="10.0.2.1").status_code == 200


@pytest.mark.django_db
def test_address_is_locked_after_its_limit_for_any_username(make_user: Any, settings: Any) -> None:
    make_user("erin")
    for attempt in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        _api_login(f"nobody{attempt}", "guess", ip="10.0.3.3")
    assert _api_login("erin", "pw-erin", ip="10.0.3.3").status_code == 429
    assert _api_login("erin", "pw-erin", ip="10.0.3.4").status_code == 200


@pytest.mark.django_db
def test_login_page_signs_in_and_shows_the_lockout(make_user: Any, settings: Any) -> None:
    make_user("fay")
    client = Client()
    page = client.get("/login")
    assert page.status_code == 200 and b'name="password"' in page.content
    assert b"Sign in with" not in page.content
    ok = client.post("/login", {"username": "fay", "password": "pw-fay", "next": "/api/profile"})
    assert ok.status_code == 302 and ok["Location"] == "/api/profile"
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        Client().post("/login", {"username": "fay", "password": "bad"})
    refused = Client().post("/login", {"username": "fay", "password": "pw-fay"})
    assert refused.status_code == 200
    assert b"Too many failed sign-ins" in refused.content


@pytest.mark.django_db
def test_admin_login_uses_the_same_lockout(make_user: Any, settings: Any, plain_static: None) -> None:
    make_user("root", team=None, superuser=True)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        Client().post("/admin/login/", {"username": "root", "password": "bad"})
    refused = Client().post("/admin/login/", {"username": "root", "password": "pw-root", "next": "/admin/"})
    assert refused.status_code == 200
    assert b"Too many failed sign-ins" in refused.content
    assert (
        AuditEvent.objects.filter(action="login_failed", username="root").count()
        >= settings.LOGIN_FAILURE_LIMIT
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"username": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b', "password": "x"}',
    ],
)
def test_deeply_nested_json_is_a_400_problem(body: bytes) -> None:
    response = APIClient().post("/api/login", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "nested deeper than" in response.json()["detail"]


@pytest.mark.django_db
def test_structured_credentials_are_refused_with_their_path() -> None:
    response = APIClient().post(
        "/api/login", {"username": {"a": [1, {"b": 2}]}, "password": ["x"]}, format="json"
    )
    assert response.status_code == 400
    assert {error["path"] for error in response.json()["errors"]} == {"username", "password"}
