"""Who may see what, and which team a write belongs to: teams own applications and everything derived."""

from typing import Any

from django.db.models import Q, QuerySet
from rest_framework import status

from innominatus.accounts import rbac
from innominatus.accounts.models import Team
from innominatus.problems import ProblemError

NO_TEAM_MESSAGE = "you belong to no team; ask a platform admin to add you to one"


class TeamProblem(ProblemError):
    """The team a write belongs to cannot be decided: none, unknown, not the caller's, or ambiguous."""

    default_code = "invalid_team"

    def __init__(
        self, detail: str, *, code: str, choices: list[str] | None = None, status_code: int = 400
    ) -> None:
        error: dict[str, Any] = {"path": "team", "pointer": "", "message": detail, "code": code}
        if choices is not None:
            error["choices"] = choices
        super().__init__(detail, errors=[error], status_code=status_code, code=code)
        self.choices = choices or []


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


def writable_team_names(user: Any) -> list[str]:
    """Names of the teams `user` may create objects for (every team for platform admins)."""
    return list(visible_teams(user).order_by("name").values_list("name", flat=True))


def team_filter(user: Any, field: str = "team") -> Q:
    """A Q object restricting a queryset to objects owned by the user's teams (everything for admins)."""
    if is_platform_admin(user):
        return Q()
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(**{f"{field}__members": user})


def team_for_write(user: Any, requested: str | None = None) -> Team:
    """The team a new object of `user` belongs to: the one named, else the user's only team.

    Raises TeamProblem: 403 for a user in no team or naming a team it is not in, 400 for an unknown
    team or when several teams are possible and none was named (the choices are listed). Platform
    admins may name any team and, like everyone, must name one unless they belong to exactly one.
    """
    admin = is_platform_admin(user)
    if requested:
        team = Team.objects.filter(name=requested).first()
        if team is None:
            raise TeamProblem(
                f"team {requested!r} does not exist",
                code="unknown_team",
                choices=writable_team_names(user),
            )
        if not admin and not team.members.filter(pk=user.pk).exists():
            raise TeamProblem(
                f"you are not a member of team {requested!r}",
                code="not_team_member",
                choices=writable_team_names(user),
                status_code=status.HTTP_403_FORBIDDEN,
            )
        return team
    own = list(Team.objects.filter(members=user).order_by("name")) if user.is_authenticated else []
    if len(own) == 1:
        return own[0]
    if not own and not admin:
        raise TeamProblem(NO_TEAM_MESSAGE, code="no_team", status_code=status.HTTP_403_FORBIDDEN)
    choices = writable_team_names(user)
    if not choices:
        raise TeamProblem("no team exists yet; create one in the admin first", code="no_team")
    raise TeamProblem(
        f"name the owning team with the team parameter; one of: {', '.join(choices)}",
        code="team_required",
        choices=choices,
    )
