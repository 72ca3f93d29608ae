"""Serializers of the accounts API: profile, API keys, sign-in and the audit log."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from innominatus.accounts import rbac
from innominatus.accounts.access import is_platform_admin
from innominatus.accounts.models import ApiKey, AuditEvent
from innominatus.accounts.services import MAX_EXPIRY_DAYS, MIN_EXPIRY_DAYS


class AuthConfigSerializer(serializers.Serializer):
    """What a client needs to offer the right sign-in options."""

    oidc_enabled = serializers.BooleanField()
    oidc_provider_name = serializers.CharField()


class LoginSerializer(serializers.Serializer):
    """Local-account credentials."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class LoginResultSerializer(serializers.Serializer):
    """The signed-in user and the CSRF token to send as X-CSRFToken on writes."""

    username = serializers.CharField()
    csrf_token = serializers.CharField()


class ProfileSerializer(serializers.Serializer):
    """The signed-in user with its teams, roles and effective permissions."""

    username = serializers.CharField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    teams = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    is_platform_admin = serializers.SerializerMethodField()
    auth_method = serializers.SerializerMethodField()

    def get_teams(self, user: Any) -> list[str]:
        return list(user.teams.order_by("name").values_list("name", flat=True))

    def get_roles(self, user: Any) -> list[str]:
        return rbac.role_names(user)

    def get_permissions(self, user: Any) -> list[str]:
        return sorted(rbac.permissions_of(user))

    def get_is_platform_admin(self, user: Any) -> bool:
        return is_platform_admin(user)

    def get_auth_method(self, user: Any) -> str:
        request = self.context.get("request")
        return str(getattr(getattr(request, "_request", None), "innominatus_auth", ""))


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as listed: never the key itself, only its masked prefix."""

    masked_key = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["name", "masked_key", "status", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    """A request for a new key."""

    name = serializers.CharField(max_length=100)
    expiry_days = serializers.IntegerField(
        min_value=MIN_EXPIRY_DAYS, max_value=MAX_EXPIRY_DAYS, required=False, default=None, allow_null=True
    )

    def validate_expiry_days(self, value: int | None) -> int:
        return settings.API_KEY_DEFAULT_EXPIRY_DAYS if value is None else value


class ApiKeyCreatedSerializer(serializers.Serializer):
    """The new key, shown this once."""

    key = serializers.CharField()
    name = serializers.CharField()
    masked_key = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class UserSummarySerializer(serializers.Serializer):
    """A user as platform admins see it in listings."""

    username = serializers.CharField()
    email = serializers.EmailField()
    is_active = serializers.BooleanField()
    last_login = serializers.DateTimeField(allow_null=True)
    teams = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()

    def get_teams(self, user: Any) -> list[str]:
        return sorted(team.name for team in user.teams.all())

    def get_roles(self, user: Any) -> list[str]:
        return sorted(group.name for group in user.groups.all())


class AuditEventSerializer(serializers.ModelSerializer):
    """One audit event."""

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "username",
            "action",
            "object_type",
            "object_id",
            "client_ip",
            "request_id",
            "method",
            "path",
            "status_code",
            "auth_method",
            "summary",
        ]
        read_only_fields = fields
