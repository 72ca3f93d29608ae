"""API keys end to end: create, use, list masked, expire, revoke; the raw key is stored nowhere."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from innominatus.accounts.models import ApiKey, AuditEvent
from innominatus.accounts.models.api_key import hash_key


def _bearer(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _session(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = 'public'
              AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')
            """
        )
        return list(cursor.fetchall())


def _tables_containing(needle: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE position(%s in "{column}"::text) > 0 LIMIT 1',
                [needle],
            )
            if cursor.fetchone():
                found.append(f"{table}.{column}")
    return found


@pytest.mark.django_db
def test_api_key_lifecycle(make_user: Any) -> None:
    user = make_user("alice")
    created = _session(user).post("/api/profile/api-keys", {"name": "ci", "expiry_days": 30}, format="json")
    assert created.status_code == 201, created.content
    raw = created.json()["key"]
    assert raw.startswith("inn_") and len(raw) >= 40
    assert created.json()["masked_key"] == raw[:12] + "…"
    expires = timezone.now() + timedelta(days=30)
    assert abs(ApiKey.objects.get(name="ci").expires_at - expires) < timedelta(minutes=1)

    # Use: the key authenticates as its user and stamps last_used_at.
    profile = _bearer(raw).get("/api/profile")
    assert profile.status_code == 200, profile.content
    assert profile.json()["username"] == "alice"
    assert profile.json()["auth_method"] == "api_key"
    assert ApiKey.objects.get(name="ci").last_used_at is not None

    # List: masked, never the key.
    listing = _bearer(raw).get("/api/profile/api-keys")
    assert listing.status_code == 200
    assert listing.json() == [
        {
            "name": "ci",
            "masked_key": raw[:12] + "…",
            "status": "active",
            "created_at": listing.json()[0]["created_at"],
            "expires_at": listing.json()[0]["expires_at"],
            "last_used_at": listing.json()[0]["last_used_at"],
            "revoked_at": None,
        }
    ]
    assert raw not in listing.content.decode()

    # The raw key appears in no column of any table (only its SHA-256 does).
    assert _tables_containing(raw) == []
    assert _tables_containing(raw[12:]) == []
    assert _tables_containing(hash_key(raw)) == ["user_api_keys.key_hash"]

    # Expire: a key past its expiry is refused.
    ApiKey.objects.filter(name="ci").update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = _bearer(raw).get("/api/profile")
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]
    ApiKey.objects.filter(name="ci").update(expires_at=timezone.now() + timedelta(days=1))

    # Revoke: by name, then refused.
    revoked = _session(user).delete("/api/profile/api-keys/ci")
    assert revoked.status_code == 204
    refused = _bearer(raw).get("/api/profile")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert _session(user).get("/api/profile/api-keys").json()[0]["status"] == "revoked"
    actions = set(AuditEvent.objects.filter(username="alice").values_list("action", flat=True))
    assert {"api_key_created", "api_key_revoked"} <= actions


@pytest.mark.django_db
def test_unknown_key_is_refused_with_401_and_a_bearer_challenge() -> None:
    response = _bearer("inn_" + "x" * 43).get("/api/profile")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_key_in_query_string_is_refused(make_user: Any) -> None:
    user = make_user("bob")
    raw = _session(user).post("/api/profile/api-keys", {"name": "q"}, format="json").json()["key"]
    for parameter in ("api_key", "token", "access_token"):
        response = APIClient().get(f"/api/profile?{parameter}={raw}")
        assert response.status_code == 400
        assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.django_db
def test_names_are_unique_per_user_and_expiry_is_bounded(make_user: Any) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    assert _session(alice).post("/api/profile/api-keys", {"name": "k"}, format="json").status_code == 201
    duplicate = _session(alice).post("/api/profile/api-keys", {"name": "k"}, format="json")
    assert duplicate.status_code == 409
    assert _session(bob).post("/api/profile/api-keys", {"name": "k"}, format="json").status_code == 201
    for days in (0, 366):
        bad = _session(alice).post(
            "/api/profile/api-keys", {"name": f"d{days}", "expiry_days": days}, format="json"
        )
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["path"] == "expiry_days"
    default = ApiKey.objects.get(user=bob, name="k")
    assert (default.expires_at - default.created_at).days == 90


@pytest.mark.django_db
def test_an_api_key_cannot_mint_keys(make_user: Any) -> None:
    user = make_user("carol")
    raw = _session(user).post("/api/profile/api-keys", {"name": "first"}, format="json").json()["key"]
    response = _bearer(raw).post("/api/profile/api-keys", {"name": "second"}, format="json")
    assert response.status_code == 403
    assert not ApiKey.objects.filter(name="second").exists()


@pytest.mark.django_db
def test_last_used_is_written_at_most_once_a_minute(make_user: Any) -> None:
    user = make_user("dora")
    raw = _session(user).post("/api/profile/api-keys", {"name": "busy"}, format="json").json()["key"]
    client = _bearer(raw)
    client.get("/api/profile")
    first = ApiKey.objects.get(name="busy").last_used_at
    client.get("/api/profile")
    assert ApiKey.objects.get(name="busy").last_used_at == first
    ApiKey.objects.filter(name="busy").update(last_used_at=timezone.now() - timedelta(minutes=2))
    client.get("/api/profile")
    assert ApiKey.objects.get(name="busy").last_used_at > first


@pytest.mark.django_db
def test_admins_manage_anyones_keys_and_others_cannot(make_user: Any) -> None:
    admin = make_user("root", team=None, role="platform-admin")
    dev = make_user("erin")
    created = _session(admin).post("/api/admin/users/erin/api-keys", {"name": "svc"}, format="json")
    assert created.status_code == 201
    raw = created.json()["key"]
    assert _bearer(raw).get("/api/profile").json()["username"] == "erin"
    assert [k["name"] for k in _session(admin).get("/api/admin/users/erin/api-keys").json()] == ["svc"]
    assert _session(dev).get("/api/admin/users/root/api-keys").status_code == 403
    assert (
        _session(dev).post("/api/admin/users/root/api-keys", {"name": "x"}, format="json").status_code == 403
    )
    assert _session(admin).delete("/api/admin/users/erin/api-keys/svc").status_code == 204
    assert _bearer(raw).get("/api/profile").status_code == 401
    assert _session(admin).delete("/api/admin/users/erin/api-keys/svc-missing").status_code == 404
    assert _session(admin).get("/api/admin/users/nobody/api-keys").status_code == 404
