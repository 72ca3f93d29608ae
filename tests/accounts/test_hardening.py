"""Security headers, cookie flags, body-size limit, client address behind proxies, `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from innominatus.accounts.network import client_ip

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_security_headers_on_api_and_pages() -> None:
    for path in ("/api/auth/config", "/login"):
        response = Client().get(path)
        assert response.status_code == 200
        assert "default-src 'self'" in response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]
        assert "Strict-Transport-Security" not in response
    assert Client().get("/api/auth/config")["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_hsts_only_over_tls(settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    assert "Strict-Transport-Security" not in Client().get("/api/auth/config")
    secure = Client().get("/api/auth/config", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
def test_tls_redirect_spares_the_probes(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert Client().get("/api/auth/config").status_code == 301
    assert Client().get("/login", secure=True).status_code == 200
    for probe in ("/health", "/ready", "/metrics"):
        assert Client().get(probe).status_code in (200, 503), probe


@pytest.mark.django_db
def test_session_cookie_flags(make_user: Any) -> None:
    make_user("alice")
    response = APIClient().post("/api/login", {"username": "alice", "password": "pw-alice"}, format="json")
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert response.cookies["csrftoken"]["samesite"] == "Lax"


@pytest.mark.django_db
def test_oversized_bodies_are_refused_before_parsing(settings: Any, make_user: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    client = APIClient()
    client.force_login(make_user("bob"))
    response = client.post("/api/profile/api-keys", data="x" * 5000, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413


def test_client_address_from_trusted_proxies_only(settings: Any) -> None:
    factory = RequestFactory()
    settings.TRUSTED_PROXIES = []
    spoofed = factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(spoofed) == "203.0.113.9"

    import ipaddress

    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    via_ingress = factory.get(
        "/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7, 10.2.2.2"
    )
    # The client may prepend anything; the first hop left of our proxies is the one we believe.
    assert client_ip(via_ingress) == "198.51.100.7"
    direct = factory.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(direct) == "198.51.100.1"
    garbage = factory.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(garbage) == "10.1.1.1"


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    """`check --deploy` with the production settings of docs/security.md (TLS ends at the ingress)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "INNOMINATUS_DATA_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "innominatus.example.com",
        "DB_HOST": "127.0.0.1",
        "DB_NAME": "idp_orchestrator",
        "SECURE_SSL_REDIRECT": "true",
        "TRUST_X_FORWARDED_PROTO": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "TRUSTED_PROXIES": "10.0.0.0/8",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_settings_are_flagged_by_check_deploy(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "INNOMINATUS_DATA_DIR": str(tmp_path),
        "DEBUG": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    for check_id in ("security.W004", "security.W008", "security.W009", "security.W018"):
        assert check_id in result.stderr + result.stdout
