"""The maintenance flag that every replica and worker sees while a restore runs.

PostgreSQL: the restore holds an exclusive advisory lock; others probe it with a shared try-lock
that they release at once (the lock lives outside every table, so pg_restore -c cannot drop it).
SQLite: a flag file beside the database.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections

from innominatus.locks import advisory_key, file_lock, postgres_advisory_lock, sqlite_lock_path

logger = logging.getLogger(__name__)

LOCK_NAME = "innominatus:maintenance"
# Requests re-check at most this often per process, so the probe costs nothing under load.
CACHE_SECONDS = 2.0

_cache_lock = threading.Lock()
_cached: tuple[float, bool] = (0.0, False)


def _flag_path(alias: str = DEFAULT_DB_ALIAS) -> Path:
    return sqlite_lock_path(LOCK_NAME, alias).with_suffix(".flag")


@contextlib.contextmanager
def hold(alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Put every replica into maintenance for the block (raises LockHeld when a restore already runs)."""
    global _cached
    if connections[alias].vendor == "postgresql":
        with postgres_advisory_lock(LOCK_NAME, alias, shared=False):
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


def _probe(alias: str) -> bool:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return _flag_path(alias).exists()
    key = advisory_key(LOCK_NAME)
    with connection.cursor() as cursor:
        # Taking the shared lock fails only while the restore holds it exclusively; release at once.
        cursor.execute(
            "SELECT CASE WHEN pg_try_advisory_lock_shared(%s)"
            " THEN NOT pg_advisory_unlock_shared(%s) ELSE true END",
            [key, key],
        )
        (active,) = cursor.fetchone()
    return bool(active)


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
