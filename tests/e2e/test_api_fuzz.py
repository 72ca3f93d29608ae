"""schemathesis with every check over /api/schema/ of a real gunicorn, with a real API key.

Bounded for the test command (FUZZ_MAX_EXAMPLES per operation, examples and fuzzing phases);
scripts/fuzz-api.sh runs the same test longer, with every phase, and keeps schemathesis' output in
FUZZ_REPORT (figures in docs/operations.md).
"""

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.ops.servers import VENV_BIN, Server, free_port, gunicorn, manage, subprocess_env

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
DATABASE = "idp_api_fuzz"
# The key endpoints would let the fuzzer revoke its own key half-way through the run.
EXCLUDED_PATHS = "api-keys"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Server]]:
    logs = tmp_path_factory.mktemp("fuzz")
    base = subprocess_env()
    name = f"{DATABASE}_{os.getpid()}"
    server_dsn = f"host={base['DB_HOST']} port={base['DB_PORT']} user={base['DB_USER']}"
    with psycopg.connect(f"{server_dsn} dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = subprocess_env(DB_NAME=name, PROMETHEUS_MULTIPROC_DIR=logs / "metrics", LOG_LEVEL="warning")
    try:
        manage("migrate", "--noinput", env=env)
        printed = manage("bootstrap_admin", env=env).stdout
        key = re.search(r"API key:\s+(\S+)", printed)
        assert key, printed
        port = free_port()
        server = gunicorn(port, env, logs / "gunicorn.log", workers=2)
        try:
            yield f"http://127.0.0.1:{port}", key.group(1), server
        finally:
            server.stop()
    finally:
        with psycopg.connect(f"{server_dsn} dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_api_matches_its_schema_under_schemathesis(api: tuple[str, str, Server], tmp_path: Path) -> None:
    url, key, server = api
    examples = os.environ.get("FUZZ_MAX_EXAMPLES", "6")
    phases = os.environ.get("FUZZ_PHASES", "examples,fuzzing")
    result = subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{url}/api/schema/",
            "--checks",
            "all",
            "--header",
            f"Authorization: Bearer {key}",
            "--exclude-path-regex",
            EXCLUDED_PATHS,
            "--phases",
            phases,
            "--max-examples",
            examples,
            "--seed",
            os.environ.get("FUZZ_SEED", "20"),
            "--generation-database",
            "none",
            "--workers",
            "2",
            "--request-timeout",
            "30",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=int(os.environ.get("FUZZ_TIMEOUT", "600")),
    )
    report = os.environ.get("FUZZ_REPORT")
    if report:
        Path(report).write_text(result.stdout)
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary
    cases = re.search(r"(\d+) generated", result.stdout)
    assert cases and int(cases.group(1)) >= 200, summary
    assert '"status_code": 500' not in server.output()
