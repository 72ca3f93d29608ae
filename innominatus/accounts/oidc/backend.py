"""mozilla-django-oidc's backend with discovered endpoints, strict ID-token checks and claim sync."""

import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from innominatus.accounts.oidc import discovery
from innominatus.accounts.oidc.claims import ClaimsError, sync_user_from_claims
from innominatus.accounts.oidc.tokens import TokenRejected, verify_jwt

logger = logging.getLogger(__name__)


def redirect_uri(request: HttpRequest) -> str:
    """The callback URL registered at the provider: OIDC_REDIRECT_URL, else this host's callback."""
    configured = str(settings.OIDC_REDIRECT_URL)
    return configured or request.build_absolute_uri(reverse("oidc_authentication_callback"))


class OIDCBackend(OIDCAuthenticationBackend):
    """Authorization-code sign-in; the ID token is verified (issuer, audience, nonce, RS256 via JWKS)."""

    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_RP_IDP_SIGN_KEY = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads endpoint settings here; ours come from discovery, lazily, on first sign-in.
        ModelBackend.__init__(self)
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:
        return discovery.endpoint("token_endpoint")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return discovery.endpoint("userinfo_endpoint")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return discovery.endpoint("jwks_uri")

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        """Exchange the code (with the PKCE verifier) and sign the user in; None on any failure."""
        # Only the callback view passes a nonce; password sign-ins never reach the provider.
        if request is None or not discovery.enabled() or "nonce" not in kwargs:
            return None
        self.request = request
        code, state = request.GET.get("code"), request.GET.get("state")
        if not code or not state:
            return None
        payload = {
            "client_id": self.OIDC_RP_CLIENT_ID,
            "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(request),
        }
        if kwargs.get("code_verifier"):
            payload["code_verifier"] = kwargs["code_verifier"]
        try:
            tokens = self.get_token(payload)
            id_claims = verify_jwt(
                str(tokens.get("id_token") or ""), audiences=[self.OIDC_RP_CLIENT_ID], nonce=kwargs["nonce"]
            )
            claims = dict(id_claims)
            if tokens.get("access_token") and settings.OIDC_USE_USERINFO:
                userinfo = self.get_userinfo(tokens["access_token"], tokens.get("id_token"), id_claims)
                if userinfo.get("sub") != id_claims.get("sub"):
                    raise TokenRejected("userinfo subject differs from the ID token's")
                claims.update(userinfo)
            return sync_user_from_claims(discovery.issuer(), claims)
        except (requests.RequestException, discovery.DiscoveryError, TokenRejected, ClaimsError) as exc:
            logger.warning("OIDC sign-in failed", extra={"reason": str(exc)})
            return None

    def get_user(self, user_id: Any) -> Any:
        """Sessions of deactivated users end, as with Django's own backend."""
        return ModelBackend.get_user(self, user_id)
