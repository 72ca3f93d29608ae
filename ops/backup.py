"""Backups of the configured database and restores from them.

PostgreSQL: pg_dump in custom format, verified with pg_restore --list; restored with
pg_restore --clean --if-exists in a single transaction. SQLite: the online backup API, verified
with PRAGMA integrity_check. Passwords reach the PostgreSQL tools through PGPASSWORD, never argv.
"""

import logging
import os
import re
import shutil
import sqlite3
import stat
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from ops.logging import redact

logger = logging.getLogger(__name__)

NAME_FORMAT = "backup-%Y%m%d-%H%M%S.dump"
NAME_PATTERN = re.compile(r"^backup-\d{8}-\d{6}\.dump$")
POSTGRES_MAGIC = b"PGDMP"
# A dump holds every secret the database does (password hashes, encrypted outputs, API key hashes).
BACKUP_FILE_MODE = 0o600
BACKUP_DIR_MODE = 0o700
# psycopg connection options and the libpq variables that carry them to pg_dump/pg_restore.
TLS_FILES = {"sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY"}
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore could not be made or verified."""


@dataclass(frozen=True)
class BackupResult:
    """A verified backup file and what retention removed."""

    path: Path
    size: int
    entries: int
    pruned: tuple[Path, ...]


def _settings(alias: str) -> dict[str, Any]:
    return connections[alias].settings_dict


def postgres_env(alias: str = DEFAULT_DB_ALIAS) -> dict[str, str]:
    """Environment for pg_dump/pg_restore: connection and TLS from DB_* settings, password via PGPASSWORD."""
    db = _settings(alias)
    options = db.get("OPTIONS", {})
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    env.update(
        {
            "PGHOST": str(db.get("HOST") or "localhost"),
            "PGPORT": str(db.get("PORT") or 5432),
            "PGUSER": str(db.get("USER") or ""),
            "PGDATABASE": str(db["NAME"]),
            "PGSSLMODE": str(options.get("sslmode", "prefer")),
            "PGCONNECT_TIMEOUT": str(options.get("connect_timeout", 10)),
            "PGAPPNAME": "innominatus-backup",
        }
    )
    # The connection's TLS files go along: without them libpq looks for ~/.postgresql/root.crt.
    env.update(
        {variable: str(options[option]) for option, variable in TLS_FILES.items() if options.get(option)}
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _run(
    argv: list[str], env: dict[str, str], *, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    tool = shutil.which(argv[0])
    if tool is None:
        raise BackupError(f"{argv[0]} not found on PATH (install the PostgreSQL client tools)")
    # A fixed tool with our own arguments; the password travels in env (PGPASSWORD), never in argv.
    result = subprocess.run(  # noqa: S603  # nosec B603 - pg_dump/pg_restore/psql by absolute path, no shell
        [tool, *argv[1:]], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{argv[0]} failed ({result.returncode}): {redact(result.stderr.strip())[-2000:]}")
    return result


def dump_format(path: Path) -> str:
    """'postgresql' or 'sqlite', from the file's first bytes."""
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(POSTGRES_MAGIC):
        return "postgresql"
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    raise BackupError(f"{path} is neither a pg_dump custom-format archive nor an SQLite database")


def verify(path: Path, alias: str = DEFAULT_DB_ALIAS) -> int:
    """Check that `path` can be restored; returns the number of archive entries (or tables)."""
    kind = dump_format(path)
    if kind == "postgresql":
        listing = _run(["pg_restore", "--list", str(path)], postgres_env(alias), timeout=600).stdout
        entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
        if not entries:
            raise BackupError(f"{path} lists no entries")
        return len(entries)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (status,) = source.execute("PRAGMA integrity_check").fetchone()
        (tables,) = source.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    finally:
        source.close()
    if status != "ok":
        raise BackupError(f"{path} failed the integrity check: {status}")
    return int(tables)


def private_directory(directory: Path) -> None:
    """Create the backup directory owner-only; an existing one loses any access for others where we may."""
    directory.mkdir(mode=BACKUP_DIR_MODE, parents=True, exist_ok=True)
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & stat.S_IRWXO:
        try:
            os.chmod(directory, mode & ~stat.S_IRWXO)
        except PermissionError:
            # A mounted volume's root may belong to another user; the dumps themselves stay 0600.
            logger.warning(
                "backup directory is accessible to every user and cannot be restricted",
                extra={"path": str(directory), "mode": oct(mode)},
            )


def prune(directory: Path, keep: int) -> tuple[Path, ...]:
    """Delete all but the newest `keep` backups in `directory` (names sort by time)."""
    backups = sorted((p for p in directory.iterdir() if NAME_PATTERN.match(p.name)), reverse=True)
    removed = tuple(backups[keep:])
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def create_backup(
    *, output_dir: Path, keep: int | None = None, alias: str = DEFAULT_DB_ALIAS
) -> BackupResult:
    """Write backup-YYYYMMDD-HHMMSS.dump to `output_dir`, verify it, then apply retention."""
    private_directory(output_dir)
    final = output_dir / datetime.now(UTC).strftime(NAME_FORMAT)
    if final.exists():
        raise BackupError(f"{final} already exists")
    partial = final.with_name(final.name + ".partial")
    try:
        # Created owner-only before the tool writes into it: the dump is never readable by others,
        # not even while it is written (pg_dump and SQLite keep the mode of a file that exists).
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, BACKUP_FILE_MODE))
        os.chmod(partial, BACKUP_FILE_MODE)
        if connections[alias].vendor == "postgresql":
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-password",
                    "--lock-wait-timeout=60000",
                    f"--file={partial}",
                ],
                postgres_env(alias),
            )
        else:
            _sqlite_copy(Path(str(_settings(alias)["NAME"])), partial)
        entries = verify(partial, alias)
        partial.rename(final)
    finally:
        partial.unlink(missing_ok=True)
    pruned = prune(output_dir, keep) if keep else ()
    logger.info("backup written", extra={"path": str(final), "entries": entries, "pruned": len(pruned)})
    return BackupResult(path=final, size=final.stat().st_size, entries=entries, pruned=pruned)


def _sqlite_copy(source_path: Path, target_path: Path, *, standalone: bool = True) -> None:
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
        if standalone:
            # A backup is one self-contained file: no -wal/-shm companions beside it.
            target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()


def restore_backup(path: Path, alias: str = DEFAULT_DB_ALIAS) -> int:
    """Replace the configured database's contents with the backup; returns the verified entry count.

    The caller holds the maintenance lock (ops.maintenance.hold) so that replicas and workers wait.
    """
    entries = verify(path, alias)
    connections[alias].close()
    if dump_format(path) == "postgresql":
        if connections[alias].vendor != "postgresql":
            raise BackupError("a pg_dump archive can only be restored into PostgreSQL")
        # One transaction: a failed restore leaves the database as it was.
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--no-owner",
                "--no-privileges",
                "--no-password",
                f"--dbname={postgres_env(alias)['PGDATABASE']}",
                str(path),
            ],
            postgres_env(alias),
        )
    else:
        if connections[alias].vendor != "sqlite":
            raise BackupError("an SQLite backup can only be restored into SQLite")
        _sqlite_copy(path, Path(str(_settings(alias)["NAME"])), standalone=False)
    logger.info("database restored", extra={"path": str(path), "entries": entries})
    return entries
