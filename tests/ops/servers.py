"""Real processes for the end-to-end ops tests: a throwaway PostgreSQL, gunicorn and a worker."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connections

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 30, interval: float = 0.2, what: str = ""
) -> Any:
    """Poll until `predicate` returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def http(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 10,
    body: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def http_json(url: str, **kwargs: Any) -> tuple[int, Any]:
    status, _, body = http(url, **kwargs)
    return status, json.loads(body)


class TempPostgres:
    """A PostgreSQL cluster in a temp directory on a free port, run as the postgres user when we are root."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="innominatus-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self._as_postgres = ["runuser", "-u", "postgres", "--"]
        self._run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        )

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(
            [*self._as_postgres, *argv], capture_output=True, text=True, timeout=120, cwd=self.root
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stdout}\n{result.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"]
        )

    def stop(self) -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-qAtc", sql],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run manage.py with `env`; raise with its output when it fails."""
    result = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


class Server:
    """A child process (gunicorn or a worker) with its output in a file, stopped with SIGTERM."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._handle = log.open("wb")
        self.process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=self._handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        self._handle.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._handle.close()


def gunicorn(port: int, env: dict[str, str], log: Path, *, workers: int = 2) -> Server:
    """gunicorn with the project's config on 127.0.0.1:`port`, answering once /health answers."""
    env = {**env, "PORT": str(port), "BIND_ADDRESS": "127.0.0.1", "GUNICORN_WORKERS": str(workers)}
    server = Server(
        [str(VENV_BIN / "gunicorn"), "-c", "innominatus/gunicorn_conf.py", "innominatus.wsgi:application"],
        env,
        log,
    )

    def up() -> bool:
        if server.process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{server.output()}")
        try:
            return http(f"http://127.0.0.1:{port}/health", timeout=5)[0] in (200, 503)
        except OSError:
            return False

    wait_for(up, timeout=60, what="gunicorn to answer /health")
    return server


def worker(env: dict[str, str], log: Path) -> Server:
    """`manage.py worker` with `env`."""
    return Server([str(VENV_BIN / "python"), "manage.py", "worker"], env, log)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def subprocess_env(**overrides: Any) -> dict[str, str]:
    """The test process' environment for a child (manage.py, gunicorn), with the test database."""
    db = connections["default"].settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "innominatus.settings",
            "DB_HOST": str(db.get("HOST") or "127.0.0.1"),
            "DB_PORT": str(db.get("PORT") or 5432),
            "DB_USER": str(db.get("USER") or "postgres"),
            "DB_NAME": str(db["NAME"]),
            "SECRET_KEY": "test-secret-key-not-for-production",
            "Q_SYNC": "false",
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if db.get("PASSWORD"):
        env["DB_PASSWORD"] = str(db["PASSWORD"])
    env.update({key: str(value) for key, value in overrides.items()})
    return env
