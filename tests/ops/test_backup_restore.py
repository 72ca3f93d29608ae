"""manage.py backup and restore: verified dumps, retention, a full round trip through a dropped
database with every table's rows identical, and the same for the embedded SQLite database."""

import os
import sqlite3
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ops import backup
from tests.ops.servers import manage, subprocess_env

pytestmark = pytest.mark.e2e

POPULATE = """
INSERT INTO teams (name, display_name, created_at) VALUES ('payments', 'Payments', now());
INSERT INTO workflow_executions (id, app_name, workflow_name, status, definition, parameters,
    variables, outputs, error_message, trigger, created_at, started_at, completed_at, updated_at)
SELECT 'wf-' || lpad(to_hex(i), 12, '0'), 'app-' || (i % 7), 'deploy', 'completed', '{"steps": []}',
    '{"n": 1}', '{}', '{}', '', 'api', now() - i * interval '1 hour', now() - i * interval '1 hour',
    now(), now()
FROM generate_series(1, 200) AS i;
INSERT INTO workflow_step_logs (execution_id, seq, stream, level, message, created_at)
SELECT 'wf-' || lpad(to_hex(1 + i % 200), 12, '0'), i, 'stdout', 'info', 'line ' || i || ' ünïcødé', now()
FROM generate_series(1, 5000) AS i;
"""


def checksums(dsn: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every table's rows (sorted by their text form), plus sequence positions."""
    found: dict[str, tuple[int, str]] = {}
    with psycopg.connect(dsn) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            count, digest = conn.execute(
                "SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))"
                f' FROM "{table}" t'
            ).fetchone()
            found[table] = (count, digest)
        for (sequence,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
        ).fetchall():
            (position,) = conn.execute(f'SELECT last_value FROM "{sequence}"').fetchone()
            found[f"sequence:{sequence}"] = (position, "")
    return found


@pytest.fixture
def database() -> Iterator[dict[str, Any]]:
    base = subprocess_env()
    name = f"idp_ops_backup_{uuid.uuid4().hex[:8]}"
    server = f"host={base['DB_HOST']} port={base['DB_PORT']} user={base['DB_USER']}"
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = subprocess_env(DB_NAME=name, PROMETHEUS_MULTIPROC_DIR="")
    try:
        manage("migrate", "--noinput", env=env)
        manage(
            "createsuperuser",
            "--noinput",
            "--username",
            "root",
            "--email",
            "r@example.com",
            env={**env, "DJANGO_SUPERUSER_PASSWORD": "pw-root-123"},
        )
        with psycopg.connect(f"{server} dbname={name}", autocommit=True) as conn:
            conn.execute(POPULATE)
        yield {"name": name, "env": env, "server": server, "dsn": f"{server} dbname={name}"}
    finally:
        with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_drop_restore_gives_back_every_row(database: dict[str, Any], tmp_path: Path) -> None:
    before = checksums(database["dsn"])
    assert before["workflow_step_logs"][0] == 5000 and before["auth_user"][0] == 1

    output = manage("backup", "--output-dir", str(tmp_path), env=database["env"]).stdout
    (dump,) = tmp_path.iterdir()
    assert backup.NAME_PATTERN.match(dump.name), dump.name
    assert f"{dump} (" in output and "entries verified" in output
    assert dump.read_bytes().startswith(b"PGDMP")

    with psycopg.connect(f"{database['server']} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{database["name"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database["name"]}"')
    assert checksums(database["dsn"]) == {}

    refused = subprocess.run(
        [str(Path(".venv/bin/python")), "manage.py", "restore", str(dump)],
        env=database["env"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert refused.returncode != 0 and "--yes" in refused.stderr
    assert checksums(database["dsn"]) == {}

    restored = manage("restore", str(dump), "--yes", env=database["env"]).stdout
    assert "maintenance on" in restored and "maintenance off" in restored
    after = checksums(database["dsn"])
    assert after == before


def test_retention_keeps_the_newest_backups(database: dict[str, Any], tmp_path: Path) -> None:
    for _ in range(3):
        manage("backup", "--output-dir", str(tmp_path), "--keep", "2", env=database["env"])
        time.sleep(1.1)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert len(names) == 2 and all(backup.NAME_PATTERN.match(name) for name in names)
    assert not [name for name in names if name.endswith(".partial")]


def test_the_password_reaches_pg_dump_through_the_environment_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(argv: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append((argv, env))
        return subprocess.CompletedProcess(argv, 1, "", "connection refused")

    monkeypatch.setattr(backup.subprocess, "run", fake_run)
    monkeypatch.setattr(
        backup,
        "_settings",
        lambda alias: {
            "HOST": "db.internal",
            "PORT": 5433,
            "USER": "app",
            "NAME": "idp",
            "PASSWORD": "s3cret-pw",
            "OPTIONS": {"sslmode": "require", "connect_timeout": 5},
        },
    )
    monkeypatch.setattr(backup.connections["default"], "vendor", "postgresql", raising=False)
    with pytest.raises(backup.BackupError):
        backup.create_backup(output_dir=tmp_path)
    argv, env = calls[0]
    assert "s3cret-pw" not in " ".join(argv)
    assert (
        env["PGPASSWORD"] == "s3cret-pw" and env["PGHOST"] == "db.internal" and env["PGSSLMODE"] == "require"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("permissive_umask")
def test_sqlite_backup_and_restore_round_trip(tmp_path: Path) -> None:
    env = subprocess_env(PROMETHEUS_MULTIPROC_DIR="", INNOMINATUS_DATA_DIR=tmp_path / "data")
    for key in ("DB_HOST", "DB_PORT", "DB_USER", "DB_NAME", "DB_PASSWORD"):
        env.pop(key, None)
    manage("migrate", "--noinput", env=env)
    manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "keep-me",
        "--email",
        "k@example.com",
        env={**env, "DJANGO_SUPERUSER_PASSWORD": "pw-keep-123"},
    )
    manage("backup", "--output-dir", str(tmp_path / "dumps"), env=env)
    (dump,) = (tmp_path / "dumps").iterdir()
    assert dump.read_bytes().startswith(b"SQLite format 3")
    assert_private(dump)
    database = tmp_path / "data" / "innominatus.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("DELETE FROM auth_user")
    manage("restore", str(dump), "--yes", env=env)
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT username FROM auth_user").fetchall() == [("keep-me",)]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Children start with umask 0, as in a container image that sets none."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def assert_private(dump: Path) -> None:
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600, oct(dump.stat().st_mode)
    assert stat.S_IMODE(dump.parent.stat().st_mode) & stat.S_IRWXO == 0, oct(dump.parent.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_backups_are_owner_only_files_in_a_directory_others_cannot_read(
    database: dict[str, Any], tmp_path: Path
) -> None:
    fresh = tmp_path / "new" / "dumps"
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    for directory in (fresh, shared):
        manage("backup", "--output-dir", str(directory), env=database["env"])
        (dump,) = directory.iterdir()
        assert_private(dump)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o770
