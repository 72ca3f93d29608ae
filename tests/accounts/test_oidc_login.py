"""Single sign-on against a real local OpenID provider: code flow with PKCE, claim sync, bearer tokens."""

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from rest_framework.test import APIClient

from innominatus.accounts import config, rbac
from innominatus.accounts.models import AuditEvent, ExternalIdentity, Team
from innominatus.accounts.oidc import discovery
from tests.accounts.conftest import CLIENT_ID, Provider

User = get_user_model()

ADMIN_CONFIG = """
oidc:
  roleMapping:
    idp-platform-admins: platform-admin
    idp-developers: developer
  teamMapping:
    /engineering/payments: payments
  teamPrefix: "team-"
"""


def _sso_login(client: Client, provider: Provider, sub: str) -> Any:
    """Our /auth/oidc/login → the provider's authorize page → our /auth/oidc/callback."""
    start = client.get("/auth/oidc/login?next=/api/profile")
    assert start.status_code == 302, start.content
    authorize_url = start["Location"]
    assert authorize_url.startswith(f"{provider.url}/oauth2/authorize?")
    query = parse_qs(urlparse(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["client_id"] == [CLIENT_ID] and "nonce" in query and "state" in query
    back = urlparse(provider.authorize(authorize_url, sub))
    assert back.path == "/auth/oidc/callback"
    return client.get(f"{back.path}?{back.query}")


@pytest.mark.django_db
def test_code_flow_creates_the_user_with_team_and_role_and_updates_them(
    oidc: Provider, admin_config: Any
) -> None:
    admin_config(ADMIN_CONFIG)
    oidc.set_user(
        "sub-alice",
        {
            "preferred_username": "alice",
            "email": "alice@example.com",
            "given_name": "Alice",
            "family_name": "Liddell",
            "groups": ["/engineering/payments", "/team-observability", "unmapped-group"],
            "roles": ["idp-developers"],
        },
    )
    client = Client()
    done = _sso_login(client, oidc, "sub-alice")
    assert done.status_code == 302 and done["Location"] == "/api/profile"
    profile = client.get("/api/profile").json()
    assert profile["username"] == "alice"
    assert profile["email"] == "alice@example.com"
    assert profile["teams"] == ["observability", "payments"]
    assert profile["roles"] == ["developer"]
    assert profile["is_platform_admin"] is False
    user = User.objects.get(username="alice")
    assert (user.first_name, user.last_name) == ("Alice", "Liddell")
    assert not user.has_usable_password()
    assert ExternalIdentity.objects.get(user=user).subject == "sub-alice"
    assert AuditEvent.objects.filter(action="login", username="alice", auth_method="oidc").exists()

    # The provider changes her groups and makes her a platform admin: the next sign-in applies it.
    oidc.set_user(
        "sub-alice",
        {
            "preferred_username": "alice",
            "email": "alice@corp.example.com",
            "groups": ["idp-platform-admins", "team-platform"],
            "roles": [],
        },
    )
    second = Client()
    assert _sso_login(second, oidc, "sub-alice").status_code == 302
    profile = second.get("/api/profile").json()
    assert profile["email"] == "alice@corp.example.com"
    assert profile["teams"] == ["platform"]
    assert profile["roles"] == ["platform-admin"]
    assert profile["is_platform_admin"] is True
    user.refresh_from_db()
    assert user.is_staff and user.is_superuser
    assert User.objects.filter(username="alice").count() == 1

    # Without any role claim value she falls back to the default role, and loses admin rights.
    oidc.set_user("sub-alice", {"preferred_username": "alice", "groups": ["team-platform"], "roles": []})
    third = Client()
    assert _sso_login(third, oidc, "sub-alice").status_code == 302
    assert third.get("/api/profile").json()["roles"] == ["viewer"]
    user.refresh_from_db()
    assert not user.is_superuser and not rbac.has_permission(user, "admin:*")


@pytest.mark.django_db
def test_discovery_is_fetched_once(oidc: Provider, monkeypatch: Any) -> None:
    fetched: list[str] = []
    original = discovery._fetch_json

    def counting(url: str) -> dict[str, Any]:
        fetched.append(url)
        return original(url)

    monkeypatch.setattr(discovery, "_fetch_json", counting)
    oidc.set_user("sub-bob", {"preferred_username": "bob", "email": "bob@example.com"})
    for _ in range(2):
        assert _sso_login(Client(), oidc, "sub-bob").status_code == 302
    assert sum(url.endswith("/.well-known/openid-configuration") for url in fetched) == 1
    assert sum(url.endswith("/jwks") for url in fetched) == 1


@pytest.mark.django_db
def test_sso_does_not_take_over_a_local_account(oidc: Provider, make_user: Any) -> None:
    make_user("root", team=None, superuser=True)
    oidc.set_user("sub-mallory", {"preferred_username": "root", "email": "m@example.com"})
    client = Client()
    done = _sso_login(client, oidc, "sub-mallory")
    assert done.status_code == 302 and done["Location"] == "/login?error=sso"
    assert client.get("/api/profile").status_code == 401
    assert not ExternalIdentity.objects.exists()
    assert AuditEvent.objects.filter(action="login_failed").exists()


@pytest.mark.django_db
def test_auth_config_reports_sso(oidc: Provider) -> None:
    assert APIClient().get("/api/auth/config").json() == {
        "oidc_enabled": True,
        "oidc_provider_name": "Mock IdP",
    }
    page = Client().get("/login?next=/apps").content.decode()
    assert 'href="/auth/oidc/login?next=/apps"' in page and "Sign in with Mock IdP" in page


@pytest.mark.django_db
def test_auth_config_and_routes_without_sso() -> None:
    assert APIClient().get("/api/auth/config").json() == {
        "oidc_enabled": False,
        "oidc_provider_name": "Single sign-on",
    }
    assert Client().get("/auth/oidc/login").status_code == 404


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.django_db
def test_unmapped_claims_make_a_viewer_without_team(oidc: Provider, admin_config: Any) -> None:
    """A `platform-admin` role claim or an IdP group names nothing innominatus must honour by itself."""
    admin_config("rbac:\n  defaultRole: viewer\n")
    claims = {
        "preferred_username": "mallory",
        "email": "m@example.com",
        "groups": ["platform-admin", "admins", "/engineering/payments"],
        "roles": ["platform-admin", "developer"],
        "realm_access": {"roles": ["platform-admin"]},
    }
    oidc.set_user("sub-mallory", claims)
    client = Client()
    assert _sso_login(client, oidc, "sub-mallory").status_code == 302
    profile = client.get("/api/profile").json()
    assert (profile["roles"], profile["teams"], profile["is_platform_admin"]) == (["viewer"], [], False)
    user = User.objects.get(username="mallory")
    assert not user.is_superuser and not user.is_staff
    assert not Team.objects.exists()
    # The same claims on a bearer token grant nothing either, and writes are refused.
    oidc.set_user("sub-oscar", {**claims, "preferred_username": "oscar", "email": "o@example.com"})
    bearer = _bearer(oidc.tokens_for("sub-oscar")["id_token"])
    assert bearer.get("/api/profile").json()["roles"] == ["viewer"]
    assert bearer.get("/api/admin/users").status_code == 403
    assert not User.objects.get(username="oscar").is_superuser
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_removed_create_teams_option_stops_start_up(admin_config: Any) -> None:
    with pytest.raises(ImproperlyConfigured, match="createTeams is no longer supported"):
        admin_config("oidc:\n  createTeams: true\n")
        config.access_config()
    with pytest.raises(ImproperlyConfigured, match="is not a team name"):
        admin_config("oidc:\n  teamMapping:\n    devs: Not A Team\n")
        config.access_config()


@pytest.mark.django_db
def test_provider_id_token_is_accepted_as_bearer(oidc: Provider, admin_config: Any) -> None:
    admin_config("oidc:\n  teamMapping:\n    search: search\n")
    oidc.set_user(
        "sub-carol", {"preferred_username": "carol", "email": "c@example.com", "groups": ["search"]}
    )
    id_token = oidc.tokens_for("sub-carol")["id_token"]
    response = _bearer(id_token).get("/api/profile")
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "carol"
    assert response.json()["teams"] == ["search"]
    assert response.json()["auth_method"] == "oidc_token"
    # Cached until expiry: the provider going away does not matter for a verified token.
    discovery.forget()
    assert _bearer(id_token).get("/api/profile").status_code == 200


@pytest.mark.django_db
def test_token_from_another_issuer_is_refused(oidc: Provider, start_provider: Any) -> None:
    other = start_provider()
    other.set_user("sub-carol", {"preferred_username": "carol", "email": "c@example.com"})
    foreign = other.tokens_for("sub-carol")["id_token"]
    assert jwt.decode(foreign, options={"verify_signature": False})["iss"] == other.url
    assert _bearer(foreign).get("/api/profile").status_code == 401
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.django_db
def test_tampered_or_self_signed_tokens_are_refused(oidc: Provider) -> None:
    oidc.set_user("sub-dave", {"preferred_username": "dave", "email": "d@example.com"})
    genuine = oidc.tokens_for("sub-dave")["id_token"]
    header, _payload, signature = genuine.split(".")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    claims["preferred_username"] = "root"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    assert _bearer(f"{header}.{forged_payload}.{signature}").get("/api/profile").status_code == 401

    attacker_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    self_signed = jwt.encode(
        {
            "iss": oidc.url,
            "aud": CLIENT_ID,
            "sub": "sub-x",
            "preferred_username": "root",
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
        },
        attacker_key,
        algorithm="RS256",
    )
    assert _bearer(self_signed).get("/api/profile").status_code == 401
    unsigned = jwt.encode(
        {"iss": oidc.url, "aud": CLIENT_ID, "sub": "x", "exp": int(time.time()) + 300},
        key=None,
        algorithm="none",
    )
    assert _bearer(unsigned).get("/api/profile").status_code == 401
    assert not User.objects.filter(username="root").exists()
    # The genuine token still works.
    assert _bearer(genuine).get("/api/profile").json()["username"] == "dave"


@pytest.mark.django_db
def test_token_for_another_audience_is_refused(oidc: Provider, settings: Any) -> None:
    oidc.set_user("sub-erin", {"preferred_username": "erin", "email": "e@example.com"})
    token = oidc.tokens_for("sub-erin")["id_token"]
    settings.OIDC_AUDIENCES = ["some-other-client"]
    assert _bearer(token).get("/api/profile").status_code == 401


@pytest.mark.django_db
def test_opaque_access_tokens_only_when_enabled(oidc: Provider, settings: Any) -> None:
    oidc.set_user("sub-fay", {"preferred_username": "fay", "email": "f@example.com"})
    access_token = oidc.tokens_for("sub-fay")["access_token"]
    assert access_token.count(".") != 2
    assert _bearer(access_token).get("/api/profile").status_code == 401
    settings.OIDC_ACCEPT_OPAQUE_TOKENS = True
    assert _bearer(access_token).get("/api/profile").json()["username"] == "fay"
    assert _bearer("not-a-token-the-provider-issued").get("/api/profile").status_code == 401
