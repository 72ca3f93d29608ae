"""Fixtures for identity tests: real local OIDC providers (oidc-provider-mock) and role-holding clients."""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import oidc_provider_mock
import pytest
import requests
import werkzeug.serving

from innominatus.accounts import config
from innominatus.accounts.oidc import discovery

CLIENT_ID = "innominatus"
CLIENT_SECRET = "client-secret-for-tests"


@dataclass
class Provider:
    """A running mock OpenID provider."""

    url: str

    def set_user(self, sub: str, claims: dict[str, Any]) -> None:
        response = requests.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def authorize(self, authorize_url: str, sub: str) -> str:
        """Approve an authorization request as `sub`; returns the redirect back to the client."""
        response = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def tokens_for(self, sub: str, *, redirect_uri: str = "http://client.test/cb") -> dict[str, Any]:
        """Run the code flow as a plain client (like a CLI) and return the provider's token response."""
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": "openid email profile",
            "state": "s",
            "nonce": "n",
        }
        start = requests.Request("GET", f"{self.url}/oauth2/authorize", params=query).prepare().url
        assert start is not None
        code = parse_qs(urlparse(self.authorize(start, sub)).query)["code"][0]
        response = requests.post(
            f"{self.url}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def start_provider() -> Iterator[Callable[[], Provider]]:
    """Start mock providers on 127.0.0.1 (each with its own signing key); stopped after the test."""
    servers: list[tuple[werkzeug.serving.BaseWSGIServer, threading.Thread]] = []

    def start() -> Provider:
        server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return Provider(url=f"http://127.0.0.1:{server.server_port}")

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(2)


@pytest.fixture
def oidc(settings: Any, start_provider: Callable[[], Provider]) -> Iterator[Provider]:
    """One provider, and innominatus configured to use it."""
    provider = start_provider()
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = provider.url
    settings.OIDC_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_AUDIENCES = [CLIENT_ID]
    settings.OIDC_REDIRECT_URL = ""
    settings.OIDC_PROVIDER_NAME = "Mock IdP"
    discovery.forget()
    yield provider
    discovery.forget()


@pytest.fixture
def admin_config(settings: Any, tmp_path: Any) -> Iterator[Callable[[str], None]]:
    """Write an admin-config.yaml for the test and point ADMIN_CONFIG at it."""

    def write(text: str) -> None:
        path = tmp_path / "admin-config.yaml"
        path.write_text(text, encoding="utf-8")
        settings.ADMIN_CONFIG = str(path)
        config.reload()

    yield write
    config.reload()


@pytest.fixture
def plain_static(settings: Any) -> None:
    """Admin templates need static URLs; the manifest storage would need collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
