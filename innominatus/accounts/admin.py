"""Admin for teams, API keys, linked identities and the (read-only) audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from innominatus.accounts import services
from innominatus.accounts.forms import AdminLoginForm
from innominatus.accounts.models import ApiKey, AuditEvent, ExternalIdentity, Team
from innominatus.pagination import EstimatedCountPaginator

# The admin's sign-in goes through the same lock-out as the login page and /api/login.
admin.site.login_form = AdminLoginForm


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    """Teams and their members; applications are assigned to teams by spec submission."""

    list_display = ["name", "display_name", "member_count", "application_count", "created_at"]
    search_fields = ["name", "display_name", "members__username"]
    filter_horizontal = ["members"]
    readonly_fields = ["created_at"]
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                application_count=Count("applications", distinct=True),
            )
        )

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, obj: Team) -> int:
        return int(getattr(obj, "member_count", 0))

    @admin.display(description="Applications", ordering="application_count")
    def application_count(self, obj: Team) -> int:
        return int(getattr(obj, "application_count", 0))


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the system only; nobody adds or edits them here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """API keys (created through the API or the profile page, shown once there); revocation only."""

    list_display = [
        "name",
        "user",
        "prefix",
        "status",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "user__username", "prefix"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = 0
        for key in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.revoke_api_key(user=key.user, name=key.name, actor=request.user)
            count += 1
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(ReadOnlyAdmin):
    """Which OIDC subject each user signs in as."""

    list_display = ["user", "issuer", "subject", "last_login_at"]
    search_fields = ["user__username", "subject"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit trail: read-only; retention is the cleanup command's job."""

    list_display = [
        "occurred_at",
        "username",
        "action",
        "object_type",
        "object_id",
        "status_code",
        "client_ip",
    ]
    # At millions of rows: no filter that lists distinct values of a column (each one a scan of the
    # table or its index), no date hierarchy (a scan for the dates), exact-match search only, a count
    # capped then estimated, and the default order (-occurred_at, -id) read backwards from its index.
    list_filter = [("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["=username", "=request_id", "=object_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-occurred_at", "-id"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
