"""The restore gate: while `manage.py restore` runs, no web request and no write reaches the database.

PostgreSQL: one advisory lock outside every table (pg_restore --clean cannot drop it). The restore
takes it EXCLUSIVE before pg_restore starts; every web request holds it SHARED for its whole
duration and every write statement, in any process, takes it SHARED in its own transaction. Both
only *try* the shared lock: once the restore holds or even waits for the exclusive lock, the try
fails at once (PostgreSQL queues a shared request behind a waiting exclusive one), so a request or
a write either got in before the gate closed — and the restore waits for it to end — or is refused
with 503. Nobody ever waits on the gate but the restore, so the gate cannot deadlock with pg_restore.
SQLite: a flag file beside the database, checked per request and per write.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from innominatus.locks import advisory_key, command_lock, file_lock, sqlite_lock_path
from innominatus.problems import DATABASE_UNAVAILABLE

logger = logging.getLogger(__name__)

LOCK_NAME = "innominatus:maintenance"
RESTORE_LOCK_NAME = "innominatus:restore"
# Workers' between-task probe is cached for this long per process; writes never use the cache.
CACHE_SECONDS = 2.0
# Statements that change data: the ones the gate refuses during a restore. A WITH may hold a
# data-modifying part (the engine records a step and its log lines in one), so it counts as a write.
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COPY", "WITH")

_cache_lock = threading.Lock()
_cached: tuple[float, bool] = (0.0, False)
# Connection attributes: the connection holds the gate for its whole request, or for the transaction
# whose commit-hook list is stored (Django replaces that list at every commit, rollback and rollback
# to a savepoint, which are also the moments PostgreSQL releases an xact lock taken inside).
HELD_FOR_REQUEST = "_innominatus_gate_request"
HELD_FOR_TRANSACTION = "_innominatus_gate_transaction"


class MaintenanceActive(OperationalError):
    """A write (or request) was refused because a restore holds the gate."""

    maintenance = True


class GateTimeout(Exception):
    """In-flight requests and writes did not finish within the restore's wait."""


def _flag_path(alias: str = DEFAULT_DB_ALIAS) -> Path:
    return sqlite_lock_path(LOCK_NAME, alias).with_suffix(".flag")


def _sqlstate(error: BaseException) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


@contextlib.contextmanager
def hold(alias: str = DEFAULT_DB_ALIAS, *, wait_seconds: float = 60.0) -> Iterator[None]:
    """Close the gate for the block: wait for in-flight requests and writes, refuse new ones.

    Raises LockHeld when another restore runs, GateTimeout when in-flight work outlasts `wait_seconds`.
    """
    global _cached
    with command_lock(RESTORE_LOCK_NAME, alias):
        if connections[alias].vendor == "postgresql":
            with _exclusive_gate(alias, wait_seconds):
                yield
        else:
            flag = _flag_path(alias)
            with file_lock(sqlite_lock_path(LOCK_NAME, alias)):
                flag.write_text("restore in progress\n")
                try:
                    yield
                finally:
                    flag.unlink(missing_ok=True)
    with _cache_lock:
        _cached = (0.0, False)


@contextlib.contextmanager
def _exclusive_gate(alias: str, wait_seconds: float) -> Iterator[None]:
    # A connection of its own: pg_restore and the command's own connection handling cannot drop it.
    wrapper = connections.create_connection(alias)
    key = advisory_key(LOCK_NAME)
    acquired = False
    try:
        wrapper.ensure_connection()
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{int(wait_seconds * 1000)}ms"])
            try:
                cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            except OperationalError as error:
                if _sqlstate(error) == "55P03":
                    raise GateTimeout(
                        f"requests or writes still in flight after {wait_seconds:g} s; nothing was restored"
                    ) from None
                raise
            acquired = True
            cursor.execute("SELECT set_config('lock_timeout', '0', false)")
        yield
    finally:
        if acquired:
            with contextlib.suppress(Exception), wrapper.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        wrapper.close()


def _raw_scalar(connection: BaseDatabaseWrapper, sql: str, params: list[Any]) -> Any:
    """Run one gate statement on the driver's cursor: not part of any view's query count or log."""
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@contextlib.contextmanager
def request_gate(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Hold the gate shared for a web request; raise MaintenanceActive when a restore holds it.

    A database that cannot be reached raises OperationalError (a stale persistent connection is
    replaced once first, so a database restart costs no request a 503).
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        if _flag_path(alias).exists():
            raise MaintenanceActive("a database restore is in progress")
        yield
        return
    key = advisory_key(LOCK_NAME)
    try:
        entered = _raw_scalar(connection, "SELECT pg_try_advisory_lock_shared(%s)", [key])
    except DATABASE_UNAVAILABLE:
        connection.close()
        entered = _raw_scalar(connection, "SELECT pg_try_advisory_lock_shared(%s)", [key])
    if not entered:
        raise MaintenanceActive("a database restore is in progress")
    setattr(connection, HELD_FOR_REQUEST, True)
    try:
        yield
    finally:
        setattr(connection, HELD_FOR_REQUEST, False)
        try:
            _raw_scalar(connection, "SELECT pg_advisory_unlock_shared(%s)", [key])
        except Exception:
            # A session that cannot unlock must not keep the lock: closing it frees every lock it holds.
            logger.warning("gate release failed; closing the connection", exc_info=True)
            connection.close()


def _write_gate(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """execute_wrapper: a write takes the gate shared in its own transaction before it runs."""
    if not sql.lstrip().upper().startswith(WRITE_VERBS):
        return execute(sql, params, many, context)
    connection: BaseDatabaseWrapper = context["connection"]
    if connection.vendor != "postgresql":
        if _flag_path(connection.alias).exists():
            raise MaintenanceActive("a database restore is in progress: writes are refused")
        return execute(sql, params, many, context)
    if getattr(connection, HELD_FOR_REQUEST, False):
        # The request holds the gate until it ends, so every write of it is inside the gate.
        return execute(sql, params, many, context)
    if not connection.in_atomic_block:
        # An autocommit write gets a transaction, so the gate it passed still holds when it commits.
        with transaction.atomic(using=connection.alias):
            return _write_gate(execute, sql, params, many, context)
    if getattr(connection, HELD_FOR_TRANSACTION, None) is not connection.run_on_commit:
        # Once per transaction: the xact lock is held until it commits or rolls back.
        if not _raw_scalar(
            connection, "SELECT pg_try_advisory_xact_lock_shared(%s)", [advisory_key(LOCK_NAME)]
        ):
            raise MaintenanceActive("a database restore is in progress: writes are refused")
        setattr(connection, HELD_FOR_TRANSACTION, connection.run_on_commit)
    return execute(sql, params, many, context)


def install_write_gate(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: every connection of every process gates its writes."""
    if _write_gate not in connection.execute_wrappers:
        connection.execute_wrappers.append(_write_gate)


def _probe(alias: str) -> bool:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return _flag_path(alias).exists()
    key = advisory_key(LOCK_NAME)
    # Taking the shared lock fails only while the restore holds (or waits for) it; release at once.
    return bool(
        _raw_scalar(
            connection,
            "SELECT CASE WHEN pg_try_advisory_lock_shared(%s) THEN NOT pg_advisory_unlock_shared(%s) ELSE true END",
            [key, key],
        )
    )


def is_active(alias: str = DEFAULT_DB_ALIAS, *, fresh: bool = False) -> bool:
    """Whether a restore is running (cached for CACHE_SECONDS unless `fresh`)."""
    global _cached
    now = time.monotonic()
    with _cache_lock:
        checked_at, active = _cached
    if not fresh and now - checked_at < CACHE_SECONDS:
        return active
    try:
        active = _probe(alias)
    except Exception:
        # An unreachable database is the health checks' business, not a maintenance window.
        logger.debug("maintenance probe failed", exc_info=True)
        active = False
    with _cache_lock:
        _cached = (now, active)
    return active


def wait_while_active(*, poll_seconds: float = 2.0, max_seconds: float | None = None) -> float:
    """Block while a restore runs (workers call this before each task); returns the seconds waited."""
    started = time.monotonic()
    announced = False
    while is_active(fresh=True):
        if not announced:
            logger.warning("restore in progress: worker paused until it ends")
            announced = True
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
        time.sleep(poll_seconds)
    waited = time.monotonic() - started
    if announced:
        logger.info("restore finished: worker resumes", extra={"waited_seconds": round(waited, 1)})
    return waited
