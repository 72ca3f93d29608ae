"""The code-flow endpoints: /auth/oidc/login redirects to the provider, /auth/oidc/callback signs in."""

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from innominatus.accounts.oidc import discovery
from innominatus.accounts.oidc.backend import redirect_uri

logger = logging.getLogger(__name__)


class OIDCLoginView(OIDCAuthenticationRequestView):
    """Starts the authorization code flow with PKCE (S256), state and nonce kept in the session."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads the authorization endpoint from settings here; it is discovered on use instead.
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:
        return discovery.endpoint("authorization_endpoint")

    @property
    def OIDC_RP_CLIENT_ID(self) -> str:
        return str(self.get_settings("OIDC_RP_CLIENT_ID"))

    def get(self, request: HttpRequest) -> HttpResponse:
        if not discovery.enabled():
            raise Http404("single sign-on is not enabled")
        try:
            return super().get(request)
        except discovery.DiscoveryError as exc:
            logger.error("OIDC provider unavailable", extra={"reason": str(exc)})
            context = {"message": "The sign-in provider is unavailable right now. Try again later."}
            return render(request, "registration/login.html", context, status=503)

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        return {"redirect_uri": redirect_uri(request)}


class OIDCCallbackView(OIDCAuthenticationCallbackView):
    """Receives the code, lets the backend verify and sync the user, and starts the session."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not discovery.enabled():
            raise Http404("single sign-on is not enabled")
        return super().get(request)
