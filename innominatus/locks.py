"""Database-wide named locks so that two replicas never run the same operation at once.

Shared by `ops` (backup, restore, cleanup, maintenance) and `workflows` (stuck-workflow recovery),
which must not import `ops`.

PostgreSQL: a session advisory lock on a dedicated connection (pg_try_advisory_lock), released
when the block ends or the process dies. SQLite: an flock on a file next to the database, which
covers every process on the one host that can open the file.
"""

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections


class LockHeld(Exception):
    """Another process holds the lock."""


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def sqlite_lock_path(name: str, alias: str = DEFAULT_DB_ALIAS) -> Path:
    """The lock file for `name` beside the SQLite database."""
    database = Path(str(connections[alias].settings_dict["NAME"]))
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
    return database.with_name(f"{database.name}.{safe}.lock")


@contextlib.contextmanager
def postgres_advisory_lock(name: str, alias: str, *, shared: bool) -> Iterator[Any]:
    """Hold the advisory lock `name` on a connection of its own for the block."""
    # A connection of its own: nothing the command does (or closes) can drop the lock by accident.
    wrapper = connections.create_connection(alias)
    key = advisory_key(name)
    kind = "_shared" if shared else ""
    acquired = False
    try:
        wrapper.ensure_connection()
        with wrapper.cursor() as cursor:
            cursor.execute(f"SELECT pg_try_advisory_lock{kind}(%s)", [key])
            (acquired,) = cursor.fetchone()
        if not acquired:
            raise LockHeld(name)
        yield wrapper
    finally:
        if acquired:
            # Unlock explicitly: a closed session frees its locks only when its backend has exited,
            # which a caller that locks again right away could overtake.
            with contextlib.suppress(Exception), wrapper.cursor() as cursor:
                cursor.execute(f"SELECT pg_advisory_unlock{kind}(%s)", [key])
        wrapper.close()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[Path]:
    """Hold an exclusive flock on `path` for the block; raise LockHeld at once if it is taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(path.name) from None
        try:
            yield path
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def command_lock(name: str, alias: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Hold the lock `name` for the block; raise LockHeld at once if someone else holds it."""
    if connections[alias].vendor == "postgresql":
        with postgres_advisory_lock(name, alias, shared=False):
            yield
    else:
        with file_lock(sqlite_lock_path(name, alias)):
            yield
