"""Profile: API keys are shown once when created, listed masked, and revoked."""

from typing import Any

import pytest
from django.test import Client

from innominatus.accounts.models import ApiKey
from innominatus.accounts.models.api_key import hash_key

pytestmark = pytest.mark.django_db


def test_profile_shows_teams_and_roles(portal: Client) -> None:
    response = portal.get("/profile")
    assert response.status_code == 200
    assert response.context["teams"] == ["team-a"]
    assert response.context["roles"] == ["developer"]
    assert "No API keys" in response.content.decode()


def test_a_new_key_is_shown_once_then_only_masked(portal: Client, developer: Any) -> None:
    response = portal.post("/profile/api-keys", {"name": "ci", "expiry_days": "30"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = response.context["issued"].raw_key
    assert raw.startswith("inn_")
    assert raw in response.content.decode()
    key = ApiKey.objects.get(user=developer, name="ci")
    assert key.key_hash == hash_key(raw)

    later = portal.get("/profile").content.decode()
    assert raw not in later
    assert key.masked_key in later


def test_duplicate_or_bad_names_are_refused_next_to_the_field(portal: Client) -> None:
    portal.post("/profile/api-keys", {"name": "ci", "expiry_days": "30"})
    again = portal.post("/profile/api-keys", {"name": "ci", "expiry_days": "30"})
    assert again.status_code == 400
    assert "already exists" in again.context["form"].errors["name"][0]
    bad = portal.post("/profile/api-keys", {"name": "a/b", "expiry_days": "30"})
    assert bad.status_code == 400
    assert bad.context["form"].errors["name"]
    assert portal.post("/profile/api-keys", {"name": "x", "expiry_days": "9999"}).status_code == 400


def test_revoke_marks_the_key_revoked(portal: Client, developer: Any) -> None:
    portal.post("/profile/api-keys", {"name": "ci", "expiry_days": "30"})
    key = ApiKey.objects.get(user=developer, name="ci")
    asked = portal.post(f"/profile/api-keys/{key.pk}/revoke")
    assert "Revoke API key ci?" in asked.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None
    response = portal.post(f"/profile/api-keys/{key.pk}/revoke", {"confirmed": "yes"}, follow=True)
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked API key ci." in response.content.decode()
    assert f"/profile/api-keys/{key.pk}/revoke" not in response.content.decode()


def test_someone_elses_key_cannot_be_revoked(portal: Client, outsider: Any, client_for: Any) -> None:
    client_for(outsider).post("/profile/api-keys", {"name": "theirs", "expiry_days": "30"})
    key = ApiKey.objects.get(user=outsider)
    assert portal.post(f"/profile/api-keys/{key.pk}/revoke").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_sign_in_required(client: Client) -> None:
    assert client.get("/profile").status_code == 302
    assert client.post("/profile/api-keys", {"name": "x"}).status_code in (302, 403)
    assert not ApiKey.objects.exists()
