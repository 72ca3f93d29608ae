"""One per web process: a thread that learns which events are committed and wakes the open streams.

On PostgreSQL the thread holds ONE connection of its own that LISTENs to the triggers' NOTIFY; on
SQLite (no NOTIFY) it polls every EVENTS_POLL_SECONDS. Either way it then reads the new rows from the
table — the table is the source of truth, the notification only a wake-up — and keeps the most recent
ones in memory, so that fifty open streams cost one read per wake-up, not fifty, and hold no database
connection while they wait.

The horizon. Ids are taken when a row is inserted, but transactions commit in their own order: id 11
may be visible while id 10 is still being written by a transaction that commits a moment later. A
reader that moved its cursor to 11 would never see 10. So the hub publishes a horizon: the highest id
below which every id is either visible or known never to arrive. A missing id holds the horizon until
the transaction that took it has ended (committed: the row appears; rolled back: the id is skipped).
That is decided with the reading statement's own snapshot: `pg_snapshot_xmin` > every transaction
that may hold a missing id (see `_advance`). SQLite has one writer at a time, so its ids commit in
order and the horizon is simply the newest id.
"""

import bisect
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from django.db import connections

from workflows.events.triggers import CHANNEL

logger = logging.getLogger(__name__)

READ_LIMIT = 2000  # rows per read: a burst larger than this is read in several
BUFFER_SIZE = 10000  # recent events kept for open streams; older ones are read from the table
# A missing id is skipped after this long even when the snapshot cannot prove its transaction ended
# (the snapshot's xmin is cluster-wide: any long transaction, in any database, holds it back).
GAP_WAIT_SECONDS = 5.0
COLUMNS = ("id", "created_at", "type", "team", "application", "execution", "step", "data")


@dataclass
class _Gap:
    seen: float
    xmax: int  # the snapshot's xmax when the gap was first seen: its transaction's id is below it


@dataclass
class _State:
    horizon: int | None = None  # None until the first read
    floor: int = 0  # every event with floor < id <= horizon is in `recent`
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=BUFFER_SIZE))
    ids: deque[int] = field(default_factory=lambda: deque(maxlen=BUFFER_SIZE))
    gaps: dict[tuple[int, int], _Gap] = field(default_factory=dict)  # (start, stop) of a run of ids


def as_message(row: dict[str, Any]) -> dict[str, Any]:
    """The stream's JSON object for a row (created_at -> time)."""
    created = row["created_at"]
    return {
        "id": row["id"],
        "type": row["type"],
        "time": created.isoformat() if hasattr(created, "isoformat") else str(created),
        "team": row["team"],
        "application": row["application"],
        "execution": row["execution"],
        "step": row["step"],
        "data": row["data"],
    }


class Hub:
    """The process's listener and its view of the committed events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._state = _State()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.open_streams = 0
        self.generation = 0  # bumped on every wake-up that moved the horizon

    # ----------------------------------------------------------------------------------- streams
    def acquire_stream(self, limit: int) -> bool:
        """Count a stream in if fewer than `limit` are open; starts the listener on first use."""
        with self._lock:
            if self._stopping.is_set() or self.open_streams >= limit:
                return False
            self.open_streams += 1
        self.start()
        return True

    def release_stream(self) -> None:
        with self._lock:
            self.open_streams -= 1

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def horizon(self, timeout: float = 5.0) -> int | None:
        """The current horizon, waiting (bounded) for the first read after the listener started."""
        self.start()
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._state.horizon is None and not self._stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self._state.horizon

    def since(self, cursor: int) -> tuple[list[dict[str, Any]], int] | None:
        """Events after `cursor` up to the horizon from memory, and the horizon; None when memory
        does not reach back to `cursor` (the caller reads the table)."""
        with self._lock:
            state = self._state
            if state.horizon is None or cursor < state.floor:
                return None
            start = bisect.bisect_right(state.ids, cursor)
            return [state.recent[i] for i in range(start, len(state.ids))], state.horizon

    def wait(self, generation: int, timeout: float) -> int:
        """Block until the horizon moves past `generation`, stop, or `timeout`; returns the generation."""
        with self._changed:
            if self.generation == generation and not self._stopping.is_set():
                self._changed.wait(timeout)
            return self.generation

    def stop(self) -> None:
        """Graceful shutdown: every open stream ends at its next wake-up, which is now."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()

    def close(self, timeout: float = 5.0) -> None:
        """Stop and wait for the listener thread (it closes its connection): tests, shutdown."""
        self.stop()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # ------------------------------------------------------------------------------ the listener
    def start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopping.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="innominatus-events", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                if connections["default"].vendor == "postgresql":
                    self._listen()
                else:
                    self._poll()
                backoff = 0.5
            except Exception:
                logger.warning("event listener lost its database; retrying", exc_info=True)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _poll(self) -> None:
        from django.conf import settings

        connection = connections["default"]  # this thread's own
        try:
            while not self._stopping.is_set():
                with connection.cursor() as cursor:
                    self._read_sqlite(cursor)
                self._stopping.wait(settings.EVENTS_POLL_SECONDS)
        finally:
            connection.close()

    def _read_sqlite(self, cursor: Any) -> None:
        after = self._state.horizon
        if after is None:
            cursor.execute("SELECT coalesce(max(id), 0) FROM workflow_events")
            after = int(cursor.fetchone()[0])
            self._publish([], after)
        while True:
            cursor.execute(
                f"SELECT {', '.join(COLUMNS)} FROM workflow_events WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608  # nosec B608 - constant columns
                [after, READ_LIMIT],
            )
            rows = [self._decode(dict(zip(COLUMNS, row, strict=True))) for row in cursor.fetchall()]
            if not rows:
                return
            after = rows[-1]["id"]
            self._publish(rows, after)
            if len(rows) < READ_LIMIT:
                return

    def _listen(self) -> None:
        import psycopg

        params = connections["default"].get_connection_params()
        params.pop("cursor_factory", None)
        params["application_name"] = "innominatus-events"
        params["prepare_threshold"] = None
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            while not self._stopping.is_set():
                self._read_postgresql(conn)
                # A pending gap is re-checked soon; otherwise a read every few seconds is the backstop
                # for a notification lost with a reconnect.
                wait = 0.5 if self._state.gaps else 2.0
                for _ in conn.notifies(timeout=wait, stop_after=1):
                    pass
                # Notifications that arrived meanwhile are covered by the next read.
                for _ in conn.notifies(timeout=0.0):
                    pass

    def _read_postgresql(self, conn: Any) -> None:
        while True:
            after = self._state.horizon
            if after is None:
                # Start at the newest id taken (rows of a test's flush, or pruned ones, are no gap).
                row = conn.execute(
                    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('workflow_events', 'id')), 0)"
                ).fetchone()
                after = int(row[0])
            # One statement, one snapshot: its xmin and xmax describe exactly what the rows read saw.
            result = conn.execute(
                "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, e.* "  # noqa: S608  # nosec B608 - constant columns
                "FROM (SELECT pg_current_snapshot() AS s) AS snap LEFT JOIN LATERAL ("
                f"SELECT {', '.join(COLUMNS)} FROM workflow_events WHERE id > %s ORDER BY id LIMIT %s"
                ") AS e ON true",
                [after, READ_LIMIT],
            ).fetchall()
            xmin, xmax = int(result[0][0]), int(result[0][1])
            rows = [
                self._decode(dict(zip(COLUMNS, row[2:], strict=True))) for row in result if row[2] is not None
            ]
            horizon, usable = self._advance(after, rows, xmin, xmax)
            self._publish(usable, horizon)
            if len(rows) < READ_LIMIT or horizon == after:
                return

    def _advance(
        self, after: int, rows: list[dict[str, Any]], xmin: int, xmax: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """How far the horizon moves over `rows` (ids > after, in order), and the gaps still open.

        A missing id g below a visible one was taken by a transaction T that already had its own
        transaction id (it wrote the changed row before the trigger took g) before the visible row
        committed, so before this snapshot: T's id < xmax. Once a later snapshot's xmin is past that
        xmax, T has ended, and that snapshot sees g if T committed — else g will never come.
        """
        now = time.monotonic()
        gaps = self._state.gaps
        horizon, usable, expected = after, [], after + 1
        for row in rows:
            if not self._gaps_closed(range(expected, row["id"]), xmin, xmax, now):
                break
            usable.append(row)
            horizon = row["id"]
            expected = horizon + 1
        for done in [key for key in gaps if key[1] - 1 <= horizon]:
            del gaps[done]
        return horizon, usable

    def _gaps_closed(self, missing: range, xmin: int, xmax: int, now: float) -> bool:
        """Whether the ids in `missing` are known never to arrive (recording them when seen first).

        A run of missing ids is one gap: recorded with the snapshot that first saw it, so a long run
        (ids of rolled-back transactions, or of rows deleted by a test's flush) costs one check.
        """
        if not missing:
            return True
        key = (missing.start, missing.stop)
        gap = self._state.gaps.get(key)
        if gap is None:
            self._state.gaps[key] = _Gap(seen=now, xmax=xmax)
            return False
        # Still open while a transaction that may hold one of these ids may commit it.
        return xmin >= gap.xmax or now - gap.seen > GAP_WAIT_SECONDS

    @staticmethod
    def _decode(row: dict[str, Any]) -> dict[str, Any]:
        import json
        from datetime import UTC, datetime

        if isinstance(row["data"], str):
            row["data"] = json.loads(row["data"])
        if isinstance(row["created_at"], str):
            stamp = datetime.fromisoformat(row["created_at"])
            row["created_at"] = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        return row

    def _publish(self, rows: list[dict[str, Any]], horizon: int) -> None:
        with self._changed:
            state = self._state
            if state.horizon is None:
                state.floor = horizon
            for row in rows:
                message = as_message(row)
                if len(state.ids) == BUFFER_SIZE:
                    state.floor = state.ids[0]
                state.ids.append(message["id"])
                state.recent.append(message)
            moved = state.horizon != horizon
            state.horizon = horizon
            if moved:
                self.generation += 1
                self._changed.notify_all()


_hub = Hub()


def hub() -> Hub:
    """This process's hub."""
    return _hub


def stop_streams() -> None:
    """For the web server's SIGTERM: open streams end now, so the worker's graceful stop is quick."""
    _hub.stop()
