"""Accounts API: sign-in for scripts, the caller's profile and API keys, admin key management, audit."""

from typing import Any

import django_filters
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from innominatus.accounts import oidc, rbac, services
from innominatus.accounts.api import serializers
from innominatus.accounts.lockout import lockout_state
from innominatus.accounts.models import ApiKey, AuditEvent
from innominatus.accounts.throttling import LoginRateThrottle
from innominatus.pagination import KeysetPagination
from innominatus.problems import Conflict, ProblemError

User = get_user_model()


class AuthConfigView(APIView):
    """Which sign-in methods the server offers (public)."""

    required_permissions = rbac.PUBLIC

    @extend_schema(responses=serializers.AuthConfigSerializer)
    def get(self, request: Request) -> Response:
        return Response({"oidc_enabled": oidc.enabled(), "oidc_provider_name": oidc.provider_name()})


class LoginView(APIView):
    """Sign in a local account with username and password: a session cookie plus the CSRF token."""

    required_permissions = rbac.PUBLIC
    # No session authentication here: the caller is signing in, and JSON-only bodies keep forms out.
    authentication_classes: list[Any] = []
    throttle_classes = [LoginRateThrottle]

    @extend_schema(request=serializers.LoginSerializer, responses=serializers.LoginResultSerializer)
    def post(self, request: Request) -> Response:
        body = serializers.LoginSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        username = body.validated_data["username"]
        state = lockout_state(request, username)
        if state.locked:
            raise exceptions.Throttled(wait=state.retry_after, detail="Too many failed sign-ins.")
        user = authenticate(request._request, username=username, password=body.validated_data["password"])
        if user is None:
            state = lockout_state(request, username)
            if state.locked:
                raise exceptions.Throttled(wait=state.retry_after, detail="Too many failed sign-ins.")
            raise exceptions.AuthenticationFailed("Invalid username or password.")
        login(request._request, user)
        return Response({"username": user.get_username(), "csrf_token": get_token(request._request)})

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class LogoutView(APIView):
    """End the session."""

    required_permissions = rbac.AUTHENTICATED

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileView(APIView):
    """The caller: name, teams, roles and effective permissions."""

    required_permissions = {"GET": "profile:read"}

    @extend_schema(responses=serializers.ProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.ProfileSerializer(request.user, context={"request": request}).data)


def _issue(request: Request, owner: Any, actor: Any = None) -> Response:
    body = serializers.ApiKeyCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    try:
        issued = services.create_api_key(
            user=owner,
            name=body.validated_data["name"],
            expiry_days=body.validated_data["expiry_days"],
            actor=actor or request.user,
        )
    except services.ApiKeyError as exc:
        if "already exists" in str(exc):
            raise Conflict(str(exc)) from None
        raise ProblemError(
            str(exc), errors=[{"path": "name", "message": str(exc), "code": "invalid"}]
        ) from None
    key = issued.api_key
    data = {
        "key": issued.raw_key,
        "name": key.name,
        "masked_key": key.masked_key,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
    }
    return Response(serializers.ApiKeyCreatedSerializer(data).data, status=status.HTTP_201_CREATED)


def _revoke(request: Request, owner: Any, name: str) -> Response:
    try:
        services.revoke_api_key(user=owner, name=name, actor=request.user)
    except ApiKey.DoesNotExist:
        raise exceptions.NotFound(f"No API key named {name!r}.") from None
    return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileApiKeysView(APIView):
    """The caller's API keys: list (masked) and create (the key is shown once)."""

    required_permissions = {"GET": "profile:read", "POST": "profile:write"}

    @extend_schema(responses=serializers.ApiKeySerializer(many=True))
    def get(self, request: Request) -> Response:
        owner: Any = request.user
        keys = ApiKey.objects.filter(user=owner).order_by("name")
        return Response(serializers.ApiKeySerializer(keys, many=True).data)

    @extend_schema(
        request=serializers.ApiKeyCreateSerializer, responses={201: serializers.ApiKeyCreatedSerializer}
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiKey):
            # A leaked key must not be able to mint longer-lived ones.
            raise exceptions.PermissionDenied("API keys cannot create API keys; sign in to create one.")
        return _issue(request, request.user)


class ProfileApiKeyDetailView(APIView):
    """Revoke one of the caller's keys."""

    required_permissions = {"DELETE": "profile:write"}

    @extend_schema(responses={204: None})
    def delete(self, request: Request, name: str) -> Response:
        return _revoke(request, request.user, name)


class AdminUserListView(generics.ListAPIView):
    """Every user with teams and roles (platform admins)."""

    required_permissions = {"GET": "admin:read"}
    serializer_class = serializers.UserSummarySerializer
    filterset_fields = ["is_active"]
    ordering_fields = ["username", "last_login"]

    def get_queryset(self) -> QuerySet[Any]:
        return User.objects.order_by("username").prefetch_related("teams", "groups")


class AdminUserApiKeysView(APIView):
    """Any user's keys (platform admins): list and create, e.g. for service accounts."""

    required_permissions = {"GET": "admin:read", "POST": "admin:write"}

    @extend_schema(responses=serializers.ApiKeySerializer(many=True))
    def get(self, request: Request, username: str) -> Response:
        owner = get_object_or_404(User, username=username)
        keys = ApiKey.objects.filter(user=owner).order_by("name")
        return Response(serializers.ApiKeySerializer(keys, many=True).data)

    @extend_schema(
        request=serializers.ApiKeyCreateSerializer, responses={201: serializers.ApiKeyCreatedSerializer}
    )
    def post(self, request: Request, username: str) -> Response:
        if isinstance(request.auth, ApiKey):
            raise exceptions.PermissionDenied("API keys cannot create API keys; sign in to create one.")
        return _issue(request, get_object_or_404(User, username=username))


class AdminUserApiKeyDetailView(APIView):
    """Revoke any user's key (platform admins)."""

    required_permissions = {"DELETE": "admin:write"}

    @extend_schema(responses={204: None})
    def delete(self, request: Request, username: str, name: str) -> Response:
        return _revoke(request, get_object_or_404(User, username=username), name)


class AuditEventFilter(django_filters.FilterSet):
    """Filters of the audit log: who, what, on which object, and when."""

    user = django_filters.CharFilter(field_name="username")
    action = django_filters.CharFilter()
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    request_id = django_filters.CharFilter()
    since = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["user", "action", "object_type", "object_id", "request_id", "since", "until"]


class AuditEventListView(generics.ListAPIView):
    """The audit log, newest first (platform admins)."""

    required_permissions = {"GET": "audit:read"}
    serializer_class = serializers.AuditEventSerializer
    filterset_class = AuditEventFilter
    ordering_fields = ["occurred_at"]
    ordering = ["-occurred_at", "-id"]
    pagination_class = KeysetPagination
    queryset = AuditEvent.objects.order_by("-occurred_at", "-id")
