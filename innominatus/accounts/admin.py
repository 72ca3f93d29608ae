"""Admin for teams: who belongs to which team, and what each team owns."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from innominatus.accounts.models import Team


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
