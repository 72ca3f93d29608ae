"""A real gunicorn against a PostgreSQL this test stops and restores: 503s, never a lost 201 or a 500."""

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.servers import (
    VENV_BIN,
    Server,
    TempPostgres,
    free_port,
    gunicorn,
    http,
    manage,
    subprocess_env,
    wait_for,
)

pytestmark = pytest.mark.e2e

DATABASE = "idp_restore_e2e"
SPEC = """\
apiVersion: score.dev/v1b1
metadata:
  name: {name}
containers:
  web:
    image: nginx:1.27
"""


@dataclass
class Stack:
    url: str
    key: str
    env: dict[str, str]
    postgres: TempPostgres
    server: Server

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}

    def launch(self, name: str, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        return http(
            f"{self.url}/api/applications",
            method="POST",
            headers=self.headers(**{"Content-Type": "application/yaml"}),
            body=SPEC.format(name=name).encode(),
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("restore")
    postgres = TempPostgres(free_port())
    postgres.start()
    try:
        postgres.psql(f"CREATE DATABASE {DATABASE}")
        env = subprocess_env(
            DB_HOST="127.0.0.1",
            DB_PORT=postgres.port,
            DB_USER="postgres",
            DB_NAME=DATABASE,
            DB_PASSWORD="",
            PROMETHEUS_MULTIPROC_DIR=logs / "metrics",
            HEALTH_CHECK_TIMEOUT="1.5",
            DB_CONNECT_TIMEOUT="2",
            BACKUP_DIR=logs / "backups",
        )
        manage("migrate", "--noinput", env=env)
        printed = manage("bootstrap_admin", env=env).stdout
        key = re.search(r"API key:\s+(\S+)", printed)
        assert key, printed
        port = free_port()
        server = gunicorn(port, env, logs / "gunicorn.log", workers=2)
        try:
            yield Stack(f"http://127.0.0.1:{port}", key.group(1), env, postgres, server)
        finally:
            server.stop()
    finally:
        postgres.destroy()


def _problem(answer: tuple[int, dict[str, str], bytes]) -> dict[str, object]:
    status, headers, body = answer
    assert status == 503, (status, body[:500])
    assert headers["Content-Type"] == "application/problem+json"
    assert int(headers["Retry-After"]) > 0
    problem = json.loads(body)
    assert problem["status"] == 503 and problem["title"] == "Service Unavailable"
    return problem


def test_every_request_answers_503_while_the_database_is_down(stack: Stack) -> None:
    assert stack.launch("before-outage")[0] == 201
    stack.postgres.stop()
    try:
        answers = {
            "api read": http(f"{stack.url}/api/applications", headers=stack.headers()),
            "api write": stack.launch("during-outage"),
            "api detail": http(f"{stack.url}/api/workflows/wf-nothing", headers=stack.headers()),
            "portal": http(f"{stack.url}/apps"),
            "login page": http(f"{stack.url}/login"),
        }
        for what, answer in answers.items():
            assert _problem(answer)["code"] == "database_unavailable", what
    finally:
        stack.postgres.start()
    wait_for(
        lambda: http(f"{stack.url}/api/applications", headers=stack.headers())[0] == 200,
        timeout=30,
        what="the API to answer again",
    )
    assert stack.launch("after-outage")[0] == 201
    names = stack.postgres.psql("SELECT string_agg(name, ',' ORDER BY name) FROM applications", DATABASE)
    assert names.split(",") == ["after-outage", "before-outage"]
    assert "Internal Server Error" not in stack.server.output()


@dataclass
class Write:
    name: str
    sent: float
    answered: float
    status: int
    code: str


def _writer(stack: Stack, index: int, stop: threading.Event, out: list[Write]) -> None:
    count = 0
    while not stop.is_set():
        name = f"w{index}-{count}"
        count += 1
        sent = time.time()
        status, _, body = stack.launch(name)
        code = ""
        if status != 201:
            code = str(json.loads(body).get("code", "")) if body.startswith(b"{") else body[:200].decode()
        out.append(Write(name, sent, time.time(), status, code))


def test_a_restore_under_four_writers_loses_no_accepted_write(stack: Stack, tmp_path: Path) -> None:
    manage("backup", "--output-dir", str(tmp_path), env=stack.env)
    (dump,) = tmp_path.glob("backup-*.dump")
    writes: list[Write] = []
    stop = threading.Event()
    writers = [threading.Thread(target=_writer, args=(stack, i, stop, writes)) for i in range(4)]
    for writer in writers:
        writer.start()
    try:
        time.sleep(1.0)
        restore = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "restore", str(dump), "--yes"],
            cwd=Path(__file__).resolve().parents[2],
            env=stack.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert restore.returncode == 0, restore.stderr
        time.sleep(1.0)
    finally:
        stop.set()
        for writer in writers:
            writer.join(60)
    closed = float(re.search(r"gate closed at ([\d.]+)", restore.stdout).group(1))  # type: ignore[union-attr]
    opened = float(re.search(r"gate opened at ([\d.]+)", restore.stdout).group(1))  # type: ignore[union-attr]
    present = set(stack.postgres.psql("SELECT string_agg(name, ',') FROM applications", DATABASE).split(","))

    assert {w.status for w in writes} <= {201, 503}, [
        (w.status, w.code) for w in writes if w.status not in (201, 503)
    ]
    assert all(w.code == "maintenance" for w in writes if w.status == 503)
    # A write that reached the server after the gate closed is refused, or ran after the restore.
    after_gate = [w for w in writes if w.sent >= closed]
    lost = [w for w in after_gate if w.status == 201 and w.name not in present]
    assert not lost, f"{len(lost)} writes answered 201 after the gate closed were wiped: {lost[:3]}"
    refused = [w for w in writes if w.status == 503]
    assert refused, "a restore must refuse the writes that arrive while it runs"
    assert all(w.answered >= closed - 0.5 for w in refused), "503 only once the restore began"
    accepted_after = [w for w in writes if w.status == 201 and w.sent > opened]
    assert accepted_after and all(w.name in present for w in accepted_after), (
        "writes resume after the restore"
    )
    assert "Internal Server Error" not in stack.server.output()
