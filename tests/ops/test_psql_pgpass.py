"""The operations guide's `kubectl exec deployment/innominatus -- psql -h $DB_HOST -U $DB_USER -d idp_orchestrator
-c "SELECT 1;"`, as it runs inside the pod: the application wrote the password it resolved to PGPASSFILE,
and psql (postgresql-client in the image) finds it there — against a PostgreSQL that demands a password."""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops.servers import REPO, TempPostgres, free_port

pytestmark = pytest.mark.e2e

PASSWORD = "pa:ss\\word-0123"  # ':' and '\' must be escaped in a password file
GUIDE_COMMAND = 'psql -h $DB_HOST -U $DB_USER -d idp_orchestrator -c "SELECT 1;"'


@pytest.fixture
def password_postgres() -> Iterator[TempPostgres]:
    pg = TempPostgres(free_port())
    try:
        (pg.data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        pg.start()
        # psql interpolates :'pw' (quoted) only in input it reads, not in -c.
        subprocess.run(
            ["psql", "-h", str(pg.root), "-p", str(pg.port), "-U", "postgres", "-v", f"pw={PASSWORD}", "-q"],
            input="CREATE ROLE innominatus LOGIN PASSWORD :'pw';", text=True,
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        subprocess.run(
            ["psql", "-h", str(pg.root), "-p", str(pg.port), "-U", "postgres", "-qc",
             "CREATE DATABASE idp_orchestrator OWNER innominatus"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield pg
    finally:
        pg.destroy()


def pod_env(pg: TempPostgres, pgpass: Path) -> dict[str, str]:
    """What the chart sets in the container (database.* values), for a port of this test server."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG", "DJANGO_", "PYTEST_"))}
    return base | {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(pg.port),
        "DB_USER": "innominatus",
        "DB_NAME": "idp_orchestrator",
        "PGPORT": str(pg.port),
        "PGSSLMODE": "prefer",
        "PGPASSFILE": str(pgpass),
    }


def test_psql_in_the_pod_uses_the_password_the_application_resolved(
    password_postgres: TempPostgres, tmp_path: Path
) -> None:
    pgpass = tmp_path / "pgpass"
    env = pod_env(password_postgres, pgpass)
    before = subprocess.run(
        ["bash", "-c", GUIDE_COMMAND], env=env, capture_output=True, text=True, timeout=60
    )
    assert before.returncode != 0, "the server must demand a password for this test to mean anything"

    started = subprocess.run(
        [sys.executable, "-c", "import innominatus.settings"],
        cwd=REPO,
        env=env | {"DB_PASSWORD": PASSWORD, "SECRET_KEY": "pgpass-test-" + "x" * 40},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert started.returncode == 0, started.stderr[-2000:]
    assert pgpass.stat().st_mode & 0o777 == 0o600
    result = subprocess.run(
        ["bash", "-c", GUIDE_COMMAND], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["?column?", "----------", "1", "(1", "row)"]
