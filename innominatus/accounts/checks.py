"""System checks: the admin configuration parses, and single sign-on talks TLS in production."""

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from innominatus.accounts.config import access_config


@checks.register(checks.Tags.security)
def check_access_config(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The rbac/oidc sections of admin-config.yaml must parse."""
    try:
        access_config()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="accounts.E001")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_oidc_tls(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Tokens and codes must not cross the network in clear text."""
    found: list[checks.CheckMessage] = []
    if settings.OIDC_ENABLED and not str(settings.OIDC_ISSUER).startswith("https://"):
        found.append(checks.Warning("OIDC_ISSUER is not an https:// URL.", id="accounts.W001"))
    if (
        settings.OIDC_ENABLED
        and settings.OIDC_REDIRECT_URL
        and not settings.OIDC_REDIRECT_URL.startswith("https://")
    ):
        found.append(checks.Warning("OIDC_REDIRECT_URL is not an https:// URL.", id="accounts.W002"))
    return found
