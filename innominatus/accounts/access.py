"""Who may see what: teams own applications and everything derived from them."""

from typing import Any

from django.db.models import Q, QuerySet

from innominatus.accounts import rbac
from innominatus.accounts.models import Team

DEFAULT_TEAM = "default"


def is_platform_admin(user: Any) -> bool:
    """Platform admins (superusers and members of a role granting `admin:*`) see every team's objects."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return rbac.has_permission(user, "admin:*")


def visible_teams(user: Any) -> QuerySet[Team]:
    """Teams whose applications `user` may see."""
    if is_platform_admin(user):
        return Team.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    return Team.objects.filter(members=user)


def team_filter(user: Any, field: str = "team") -> Q:
    """A Q object restricting a queryset to objects owned by the user's teams (everything for admins)."""
    if is_platform_admin(user):
        return Q()
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(**{f"{field}__members": user})


def default_team_for(user: Any, requested: str | None = None) -> Team:
    """The team a new application of `user` belongs to: the one asked for, else the user's only team.

    Raises PermissionError when the user may not act for the requested team, and LookupError when
    the choice is ambiguous.
    """
    if requested:
        team = Team.objects.filter(name=requested).first()
        if team is None:
            raise LookupError(f"team {requested!r} does not exist")
        if not is_platform_admin(user) and not team.members.filter(pk=user.pk).exists():
            raise PermissionError(f"you are not a member of team {requested!r}")
        return team
    teams = list(Team.objects.filter(members=user)[:2])
    if len(teams) == 1:
        return teams[0]
    if len(teams) > 1:
        raise LookupError("you belong to several teams; choose one with ?team=<name>")
    team, _ = Team.objects.get_or_create(name=DEFAULT_TEAM, defaults={"display_name": "Default team"})
    team.members.add(user)
    return team
