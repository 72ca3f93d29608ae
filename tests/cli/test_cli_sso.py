"""`login --sso`: code flow with PKCE on a loopback listener against a real local OpenID provider."""

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from rest_framework.test import APIClient

from innominatus.accounts.models import ApiKey
from tests.accounts.conftest import CLIENT_ID, CLIENT_SECRET, Provider
from tests.cli.conftest import Cli
from tests.e2e.conftest import Processes


@pytest.mark.django_db
def test_token_endpoint_takes_a_provider_id_token(oidc: Provider) -> None:
    options = APIClient().get("/api/auth/token").json()
    assert options == {
        "methods": ["password", "oidc"],
        "oidc_issuer": oidc.url,
        "oidc_client_id": CLIENT_ID,
        "oidc_scopes": "openid email profile",
    }
    oidc.set_user("sub-olga", {"preferred_username": "olga", "email": "o@example.com"})
    id_token = oidc.tokens_for("sub-olga")["id_token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {id_token}")
    issued = client.post("/api/auth/token", {"name": "sso-key"}, format="json")
    assert issued.status_code == 201, issued.content
    assert ApiKey.objects.get(name="sso-key").user.username == "olga"
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert forged.post("/api/auth/token", {"name": "x"}, format="json").status_code == 401


@pytest.mark.django_db
def test_without_sso_only_passwords_are_offered() -> None:
    assert APIClient().get("/api/auth/token").json()["methods"] == ["password"]


@pytest.mark.e2e
def test_login_sso_runs_the_code_flow_on_a_loopback_listener(
    processes: Processes, start_provider: Any, tmp_path: Path
) -> None:
    provider = start_provider()
    provider.set_user("sub-sam", {"preferred_username": "sam", "email": "sam@example.com"})
    processes.env.update(
        {
            "OIDC_ENABLED": "true",
            "OIDC_ISSUER": provider.url,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            # The mock provider authenticates every client at its token endpoint, as Google does
            # for installed applications: a separate CLI client with a non-confidential secret.
            "OIDC_CLI_CLIENT_ID": "innominatus-cli",
            "OIDC_CLI_CLIENT_SECRET": "installed-app-secret",
        }
    )
    home = tmp_path / "home"
    home.mkdir()
    cli = Cli(server=processes.gunicorn(workers=1), home=home)
    login = cli.popen("login", "--sso", "--no-browser", "--name", "sso-laptop")
    try:
        assert login.stderr is not None
        url = ""
        for _ in range(20):
            line = login.stderr.readline()
            if line.startswith("Sign in at: "):
                url = line.removeprefix("Sign in at: ").strip()
                break
        assert url.startswith(f"{provider.url}/oauth2/authorize?"), url
        assert (
            "client_id=innominatus-cli" in url
            and "code_challenge_method=S256" in url
            and "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in url
        )
        # The browser: approve at the provider, follow its redirect to the loopback listener.
        back = provider.authorize(url, "sub-sam")
        assert back.startswith("http://127.0.0.1:")
        assert requests.get(back, timeout=10).status_code == 200
        out, err = login.communicate(timeout=60)
    finally:
        if login.poll() is None:
            login.kill()
    assert login.returncode == 0, out + err
    assert "as sam" in out
    who = cli.run("whoami", "-o", "json")
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["username"] == "sam"
    assert ApiKey.objects.get(name="sso-laptop").user.username == "sam"


@pytest.mark.django_db
def test_the_web_clients_secret_is_never_published(oidc: Provider, settings: Any) -> None:
    settings.OIDC_CLI_CLIENT_SECRET = "installed-app-secret"
    settings.OIDC_CLI_CLIENT_ID = ""  # the CLI would share the web client: its secret stays private
    assert "oidc_client_secret" not in APIClient().get("/api/auth/token").json()
    settings.OIDC_CLI_CLIENT_ID = "innominatus-cli"
    options = APIClient().get("/api/auth/token").json()
    assert options["oidc_client_id"] == "innominatus-cli"
    assert options["oidc_client_secret"] == "installed-app-secret"
