"""The checks behind /health and /ready, as django-health-check HealthCheck subclasses.

Checks that touch the database run on one long-lived thread so that they reuse one connection per
server process, and each has a short timeout so that a hung database cannot hang a probe.
"""

import abc
import dataclasses
import datetime
import functools
from typing import ClassVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from ops.health.executor import DaemonThreadExecutor

WORKER_SEEN_SECONDS = 60

# One thread per server process: database checks share its connection instead of opening one per probe.
EXECUTOR = DaemonThreadExecutor("health-check")


def _timeout() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.HEALTH_CHECK_TIMEOUT)


def _short(exc: BaseException) -> str:
    """The first line of an error, without the traceback, for an unauthenticated endpoint."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _cursor_with_timeout(alias: str, seconds: float) -> CursorWrapper:
    connection = connections[alias]
    # A connection broken by a database restart is replaced here rather than failing every probe.
    connection.close_if_unusable_or_obsolete()
    cursor = connection.cursor()
    if connection.vendor == "postgresql":
        cursor.execute(f"SET statement_timeout = {int(seconds * 1000)}")
    return cursor


@dataclasses.dataclass
class ComponentCheck(HealthCheck):
    """A named component; a failure of a critical one makes the service unhealthy, else degraded."""

    component: ClassVar[str] = "component"
    critical: ClassVar[bool] = True
    timeout: datetime.timedelta = dataclasses.field(default_factory=_timeout, repr=False)

    @abc.abstractmethod
    def run(self) -> None:
        """Check the component (synchronously); raise ServiceUnavailable or ServiceWarning when it is not OK."""

    def ok_message(self) -> str:
        return "OK"


@dataclasses.dataclass
class ServerCheck(ComponentCheck):
    """The process answers; reaching this code is the check."""

    component: ClassVar[str] = "server"

    def run(self) -> None:
        return None

    def ok_message(self) -> str:
        return "serving requests"


@dataclasses.dataclass
class DatabaseCheck(ComponentCheck):
    """SELECT 1 on the default database under a statement timeout."""

    component: ClassVar[str] = "database"
    alias: str = DEFAULT_DB_ALIAS

    def run(self) -> None:
        try:
            with _cursor_with_timeout(self.alias, self.timeout.total_seconds()) as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
        except Exception as exc:
            connections[self.alias].close()
            raise ServiceUnavailable(f"database unreachable: {_short(exc)}") from exc
        if row != (1,):
            raise ServiceUnavailable("database answered SELECT 1 with an unexpected result")

    def ok_message(self) -> str:
        return f"{connections[self.alias].vendor} reachable"


@functools.cache
def _required_migrations() -> tuple[frozenset[tuple[str, str]], dict[tuple[str, str], list[tuple[str, str]]]]:
    """Every migration on disk that the database must have applied, and what squashed ones replace.

    Loaded once: the migration files cannot change under a running process.
    """
    loader = MigrationLoader(None, ignore_no_migrations=True)
    required: set[tuple[str, str]] = set()
    for leaf in loader.graph.leaf_nodes():
        required.update(loader.graph.forwards_plan(leaf))
    replaces = {key: list(migration.replaces) for key, migration in loader.replacements.items()}
    return frozenset(required), replaces


def pending_migrations(alias: str = DEFAULT_DB_ALIAS, timeout: float = 2.0) -> list[str]:
    """Migrations present on disk but not applied to the database, as app.name."""
    required, replaces = _required_migrations()
    with _cursor_with_timeout(alias, timeout):
        applied = set(MigrationRecorder(connections[alias]).applied_migrations())
    pending = [
        key
        for key in required
        if key not in applied and not (key in replaces and all(old in applied for old in replaces[key]))
    ]
    return sorted(f"{app}.{name}" for app, name in pending)


@dataclasses.dataclass
class MigrationsCheck(ComponentCheck):
    """All migrations applied; pending ones degrade /health and make /ready fail."""

    component: ClassVar[str] = "migrations"
    critical: ClassVar[bool] = False
    alias: str = DEFAULT_DB_ALIAS

    def run(self) -> None:
        try:
            pending = pending_migrations(self.alias, self.timeout.total_seconds())
        except Exception as exc:
            connections[self.alias].close()
            raise ServiceUnavailable(f"cannot read applied migrations: {_short(exc)}") from exc
        if pending:
            shown = ", ".join(pending[:5]) + (" …" if len(pending) > 5 else "")
            raise ServiceWarning(f"{len(pending)} migration(s) not applied: {shown}")

    def ok_message(self) -> str:
        return "all migrations applied"


@dataclasses.dataclass
class WorkersCheck(ComponentCheck):
    """A worker process wrote a heartbeat within the last minute, and workers make progress: no
    claimable message has waited longer than WORKER_STALL_SECONDS while a live worker process sat idle."""

    component: ClassVar[str] = "workers"
    critical: ClassVar[bool] = False

    def run(self) -> None:
        if settings.Q_CLUSTER.get("sync"):
            return
        from ops.models import WorkerHeartbeat
        from workflows.services.backlog import oldest_message_wait

        stall = float(settings.WORKER_STALL_SECONDS)
        try:
            with _cursor_with_timeout(DEFAULT_DB_ALIAS, self.timeout.total_seconds()):
                now = timezone.now()
                live = WorkerHeartbeat.objects.filter(
                    last_seen__gte=now - datetime.timedelta(seconds=WORKER_SEEN_SECONDS)
                )
                alive = live.count()
                last = (
                    WorkerHeartbeat.objects.order_by("-last_seen").values_list("last_seen", flat=True).first()
                )
                idle = list(
                    live.filter(idle_since__lte=now - datetime.timedelta(seconds=stall)).values_list(
                        "worker_id", flat=True
                    )[:5]
                )
                waited = oldest_message_wait(now) if idle else 0.0
        except Exception as exc:
            connections[DEFAULT_DB_ALIAS].close()
            raise ServiceWarning(f"cannot read worker heartbeats: {_short(exc)}") from exc
        if not alive:
            if last is None:
                raise ServiceWarning("no worker has ever been seen; is `manage.py worker` running?")
            age = (now - last).total_seconds()
            raise ServiceWarning(f"no worker seen for {age:.0f} s (limit {WORKER_SEEN_SECONDS} s)")
        if waited > stall:
            raise ServiceUnavailable(
                f"workers make no progress: a queued task has waited {waited:.0f} s while worker "
                f"process(es) {', '.join(idle)} sat idle for more than {stall:.0f} s (frozen worker?)"
            )
        self._alive = alive

    def ok_message(self) -> str:
        if settings.Q_CLUSTER.get("sync"):
            return "sync mode: tasks run in the calling process"
        return f"{getattr(self, '_alive', 0)} worker process(es) seen in the last {WORKER_SEEN_SECONDS} s"
