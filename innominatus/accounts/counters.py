"""Atomic hit counters for rate limits and the login lock-out: one SQL upsert per hit.

A read-modify-write through the cache lets concurrent requests all read the same count and all
pass; here the database increments and answers in one statement, so N concurrent hits see N
different counts. PostgreSQL and SQLite (3.35+) both run the statement.
"""

import secrets
import time
from dataclasses import dataclass

from django.db import connection

from innominatus.accounts.models import RateCounter, RateHit

MAX_NAME_LENGTH = 255
# One new window in this many also deletes the ended ones, so the table stays as small as the traffic.
PURGE_ONE_IN = 200

# A window that has ended starts again at 1. A sliding window moves its end with every hit (lock-out
# counters: failures count until the window passes without one); a fixed one opens with the first hit.
_UPSERT = """
INSERT INTO {table} (name, count, window_ends, last_hit) VALUES (%s, 1, %s, %s)
ON CONFLICT (name) DO UPDATE SET
    count = CASE WHEN {table}.window_ends <= %s THEN 1 ELSE {table}.count + 1 END,
    window_ends = CASE WHEN %s OR {table}.window_ends <= %s
        THEN excluded.window_ends ELSE {table}.window_ends END,
    last_hit = excluded.last_hit
RETURNING count, window_ends, last_hit
"""
# Lock-out counters must survive a database crash; request-rate counters (throttles) need not, and
# live in an UNLOGGED table on PostgreSQL (innominatus.accounts.models.counter.RateHit).
DURABLE = RateCounter
EPHEMERAL = RateHit


@dataclass(frozen=True)
class Count:
    """A key's hits in its current window, when that window ends and when the last hit was."""

    count: int
    window_ends: float
    last_hit: float


def _name(key: str) -> str:
    return key[:MAX_NAME_LENGTH]


def hit(
    key: str,
    window_seconds: float,
    *,
    sliding: bool = False,
    now: float | None = None,
    store: type[RateCounter] | type[RateHit] = DURABLE,
) -> Count:
    """Count one hit of `key` (in `store`: DURABLE or EPHEMERAL) and return the count including it."""
    moment = time.time() if now is None else now
    ends = moment + window_seconds
    # One statement in autocommit: the row lock lasts only as long as the statement.
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT.format(table=store._meta.db_table), [_name(key), ends, moment, moment, sliding, moment]
        )
        count, window_ends, last_hit = cursor.fetchone()
    if count == 1 and secrets.randbelow(PURGE_ONE_IN) == 0:
        purge_expired(now=moment, store=store)
    return Count(count=int(count), window_ends=float(window_ends), last_hit=float(last_hit))


def current(key: str, *, now: float | None = None) -> Count | None:
    """The key's count in its current window, or None when it has none."""
    moment = time.time() if now is None else now
    row = (
        RateCounter.objects.filter(name=_name(key), window_ends__gt=moment)
        .values_list("count", "window_ends", "last_hit")
        .first()
    )
    if row is None:
        return None
    return Count(count=row[0], window_ends=row[1], last_hit=row[2])


def forget(key: str) -> None:
    """Drop a key's count (a successful sign-in clears its username's failures)."""
    RateCounter.objects.filter(name=_name(key)).delete()


def purge_expired(*, now: float | None = None, store: type[RateCounter] | type[RateHit] | None = None) -> int:
    """Delete counters whose window has ended (in one store, or both); returns how many."""
    moment = time.time() if now is None else now
    deleted = 0
    for model in (store,) if store is not None else (DURABLE, EPHEMERAL):
        # One DELETE statement, no rows loaded: .delete() would fetch them first for signals.
        deleted += model.objects.filter(window_ends__lte=moment)._raw_delete(model.objects.db)
    return deleted
