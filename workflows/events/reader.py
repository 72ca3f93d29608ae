"""What one client may see of the event stream, and reading it: the API's team scoping, the
permission of each event family, the query's filters, resume and the bounded backlog."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Min, Q

from innominatus.accounts import access, rbac
from workflows.events.hub import COLUMNS, as_message
from workflows.models import Event, StepLog

# The event types (docs/events.md); `types=` names them or a family (`step.`).
TYPES = (
    "application.created",
    "application.updated",
    "application.deleted",
    "execution.created",
    "execution.started",
    "execution.succeeded",
    "execution.failed",
    "execution.cancelled",
    "execution.waiting_approval",
    "step.started",
    "step.succeeded",
    "step.failed",
    "step.skipped",
    "step.cancelled",
    "step.log",
    "resource.requested",
    "resource.provisioning",
    "resource.active",
    "resource.updating",
    "resource.degraded",
    "resource.failed",
    "resource.deleting",
    "resource.deleted",
)
FAMILIES = {name.split(".")[0] + "." for name in TYPES}
# The permission each family needs, as the REST endpoints that show the same objects.
FAMILY_PERMISSION = {
    "application.": "specs:read",
    "execution.": "workflows:read",
    "step.": "workflows:read",
    "resource.": "resources:read",
}
MAX_LINES_PER_EVENT = 5000


def parse_types(text: str) -> tuple[str, ...]:
    """`types=` as exact types and families; raises ValueError naming an unknown one."""
    wanted = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in wanted:
        if name not in TYPES and name not in FAMILIES:
            raise ValueError(
                f"unknown event type {name!r}; one of {', '.join(TYPES)}, or a family such as step."
            )
    return wanted


@dataclass
class Scope:
    """Which events one client receives."""

    teams: frozenset[str] | None  # None: every team (platform admins)
    families: frozenset[str]
    app: str = ""
    execution: str = ""
    types: tuple[str, ...] = ()
    logs: bool = False
    _exact: frozenset[str] = field(init=False)
    _prefixes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self._exact = frozenset(name for name in self.types if not name.endswith("."))
        self._prefixes = tuple(name for name in self.types if name.endswith("."))

    @classmethod
    def for_user(cls, user: Any, **filters: Any) -> "Scope":
        teams = None
        if not access.is_platform_admin(user):
            teams = frozenset(access.visible_teams(user).values_list("name", flat=True))
        families = frozenset(
            family
            for family, permission in FAMILY_PERMISSION.items()
            if rbac.has_permission(user, permission)
        )
        return cls(teams=teams, families=families, **filters)

    def admits(self, event: dict[str, Any]) -> bool:
        """The same decision as `query()`, for events already in memory."""
        kind = event["type"]
        if self.teams is not None and event["team"] not in self.teams:
            return False
        if kind[: kind.index(".") + 1] not in self.families:
            return False
        if kind == "step.log" and not self.logs:
            return False
        if self.app and event["application"] != self.app:
            return False
        if self.execution and event["execution"] != self.execution:
            return False
        return not self.types or kind in self._exact or kind.startswith(self._prefixes)

    def query(self) -> Q:
        condition = Q(pk__in=[])
        for family in sorted(self.families):
            condition |= Q(type__startswith=family)
        if self.teams is not None:
            condition &= Q(team__in=sorted(self.teams))
        if not self.logs:
            condition &= ~Q(type="step.log")
        if self.app:
            condition &= Q(application=self.app)
        if self.execution:
            condition &= Q(execution=self.execution)
        if self.types:
            wanted = Q(type__in=sorted(self._exact))
            for prefix in self._prefixes:
                wanted |= Q(type__startswith=prefix)
            condition &= wanted
        return condition


def read(scope: Scope, after: int, upto: int, limit: int) -> list[dict[str, Any]]:
    """Events of `scope` with after < id <= upto from the table, oldest first, at most `limit`."""
    rows = Event.objects.filter(scope.query(), id__gt=after, id__lte=upto).order_by("id").values(*COLUMNS)
    return [as_message(row) for row in rows[:limit]]


def needs_reset(after: int) -> bool:
    """Whether events after `after` were pruned already: the client must reload what it shows."""
    if after <= 0:
        return False
    oldest = Event.objects.aggregate(oldest=Min("id"))["oldest"]
    if oldest is None:
        return False
    return after + 1 < oldest


def with_lines(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """`step.log` events carry the range of their log rows; the lines are read here, once per
    event, in the form the contract names: {"lines": [{"n", "stream", "text"}]}."""
    result = []
    for event in events:
        if event["type"] != "step.log" or "lines" in event["data"]:
            result.append(event)
            continue
        data = event["data"]
        lines = StepLog.objects.filter(
            execution_id=event["execution"], id__gte=data["first_log_id"], id__lte=data["last_log_id"]
        )
        lines = (
            lines.filter(step_id=data["step_id"]) if data.get("step_id") else lines.filter(step__isnull=True)
        )
        rows = lines.order_by("id").values_list("seq", "stream", "message")[:MAX_LINES_PER_EVENT]
        result.append(
            {
                **event,
                "data": {"lines": [{"n": n, "stream": stream, "text": text} for n, stream, text in rows]},
            }
        )
    return result


def release_connection() -> None:
    """A stream between reads holds no database connection (it may wait for minutes)."""
    if not connection.in_atomic_block:
        connection.close()
