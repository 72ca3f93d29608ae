"""`POST /api/auth/token`: exchange a sign-in for a named API key (the command line's `login`).

`GET` tells a client which ways in there are (and the provider's public client for SSO). Two ways
in, both ending in a new key shown once:
- username and password, behind the same lock-out and login throttle as the login page and
  /api/login (a failure is counted by the user_login_failed signal, a success clears the username);
- an OIDC token of the configured provider as `Authorization: Bearer` (what `innominatus-ctl login
  --sso` obtains with the authorization-code flow and PKCE). An API key can never mint another key.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from innominatus.accounts import oidc, rbac
from innominatus.accounts.api import serializers as account_serializers
from innominatus.accounts.api.views import _issue
from innominatus.accounts.authentication import BearerAuthentication
from innominatus.accounts.lockout import clear_login_failures, lockout_state
from innominatus.accounts.models import ApiKey
from innominatus.accounts.throttling import LoginRateThrottle


class TokenRequestSerializer(account_serializers.ApiKeyCreateSerializer):
    """The key's name and lifetime, with a username and password unless a provider token is sent."""

    username = serializers.CharField(max_length=150, required=False)
    password = serializers.CharField(
        max_length=4096, trim_whitespace=False, required=False, style={"input_type": "password"}
    )


def _locked(request: Request, username: str) -> None:
    state = lockout_state(request, username)
    if state.locked:
        raise exceptions.Throttled(wait=state.retry_after, detail="Too many failed sign-ins.")


class TokenOptionsSerializer(serializers.Serializer):
    """How a command-line client may sign in here."""

    methods = serializers.ListField(child=serializers.CharField(), help_text="password, and oidc with SSO.")
    oidc_issuer = serializers.CharField(help_text="The provider's issuer URL (empty without SSO).")
    oidc_client_id = serializers.CharField(help_text="Public client id for the code flow with PKCE.")
    oidc_scopes = serializers.CharField()
    oidc_client_secret = serializers.CharField(
        required=False,
        help_text="Installed-application secret (not confidential), when the provider needs one.",
    )


class TokenView(APIView):
    """Sign in and receive a new named API key (201), for command-line and CI clients."""

    required_permissions = rbac.PUBLIC
    # Only a provider token may stand in for the password; sessions and cookies play no part here.
    authentication_classes = [BearerAuthentication]
    throttle_classes = [LoginRateThrottle]

    @extend_schema(responses=TokenOptionsSerializer, summary="How a command-line client may sign in")
    def get(self, request: Request) -> Response:
        # Both values are public: the issuer is in every token, a PKCE client has no secret.
        sso = oidc.enabled()
        client_id = (settings.OIDC_CLI_CLIENT_ID or settings.OIDC_CLIENT_ID) if sso else ""
        body = {
            "methods": ["password", "oidc"] if sso else ["password"],
            "oidc_issuer": oidc.issuer() if sso else "",
            "oidc_client_id": client_id,
            "oidc_scopes": settings.OIDC_RP_SCOPES if sso else "",
        }
        secret = getattr(settings, "OIDC_CLI_CLIENT_SECRET", "")
        if sso and secret and client_id != settings.OIDC_CLIENT_ID:
            body["oidc_client_secret"] = secret
        return Response(body)

    @extend_schema(
        request=TokenRequestSerializer,
        responses={201: account_serializers.ApiKeyCreatedSerializer},
        summary="Exchange a username and password (or an OIDC token) for a named API key",
    )
    def post(self, request: Request) -> Response:
        body = TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = self._signed_in_user(request, body.validated_data)
        # _issue validates the name and lifetime again and answers 201 with the key, or 409/400.
        response = _issue(request, user, actor=user)
        if response.status_code == status.HTTP_201_CREATED:
            clear_login_failures(user.get_username())
        return response

    def _signed_in_user(self, request: Request, data: dict[str, Any]) -> Any:
        if isinstance(request.auth, ApiKey):
            raise exceptions.PermissionDenied("API keys cannot create API keys; sign in to create one.")
        if request.user and request.user.is_authenticated:
            return request.user
        username, password = data.get("username"), data.get("password")
        if not username or password is None:
            raise exceptions.ValidationError(
                {"username": ["Send a username and password, or a provider token as Authorization: Bearer."]}
            )
        _locked(request, username)
        user = authenticate(request._request, username=username, password=password)
        if user is None:
            _locked(request, username)
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        return user

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
