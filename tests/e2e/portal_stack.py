"""A real web server (gunicorn) and a real worker (manage.py qcluster) against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A free TCP port below the ephemeral range (32768+), where nothing else picks ports at random."""
    for port in range(21000 + os.getpid() % 5000, 32000):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32000")


def stack_environment(work: Path, static_root: Path) -> dict[str, str]:
    """What both processes need: the test database, production-like settings, short step leases."""
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "DJANGO_ALLOW"))}
    env.update(
        DB_HOST=str(db["HOST"] or "127.0.0.1"),
        DB_PORT=str(db["PORT"] or 5432),
        DB_USER=str(db["USER"]),
        DB_PASSWORD=str(db["PASSWORD"] or ""),
        DB_NAME=str(db["NAME"]),
        SECRET_KEY="e2e-secret-key-not-for-production",
        DEBUG="false",
        SECURE_COOKIES="false",
        Q_SYNC="false",
        Q_WORKERS="2",
        STEP_LEASE_SECONDS="5",
        STATIC_ROOT=str(static_root),
        INNOMINATUS_DATA_DIR=str(work / "data"),
        STEP_WORK_ROOT=str(work / "steps"),
        PROMETHEUS_MULTIPROC_DIR=str(work / "metrics"),
        LOG_FORMAT="console",
        LOG_LEVEL="warning",
        GUNICORN_GRACEFUL_TIMEOUT="2",
        PYTHONUNBUFFERED="1",
    )
    return env


def collect_static(static_root: Path) -> None:
    """The manifest storage serves hashed files only after collectstatic, as in the image build."""
    env = {**os.environ, "SECRET_KEY": "collectstatic", "DEBUG": "false", "STATIC_ROOT": str(static_root)}
    subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )


@dataclass
class Stack:
    """The running processes and where to reach the web server."""

    base_url: str
    web: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    logs: Path


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    # A session of its own, so that stopping it also stops the workers it forked, and nothing else.
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group, then wait until every member is gone (their database sessions too)."""
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _group_alive(process.pid) and time.monotonic() < deadline:
        process.poll()
        time.sleep(0.1)
    if _group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def _wait_until_up(stack: Stack, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in (("gunicorn", stack.web), ("qcluster", stack.worker)):
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {(stack.logs / (name + '.log')).read_text()[-3000:]}")
        try:
            if requests.get(stack.base_url + "/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer in time: " + (stack.logs / "gunicorn.log").read_text()[-3000:])


@contextmanager
def running_stack(work: Path, static_root: Path) -> Iterator[Stack]:
    """gunicorn and qcluster for the duration of the block; their output is kept in `work`."""
    env = stack_environment(work, static_root)
    port = free_port()
    env.update(BIND_ADDRESS="127.0.0.1", PORT=str(port), GUNICORN_WORKERS="2")
    work.mkdir(parents=True, exist_ok=True)
    web = _start(
        [str(VENV_BIN / "gunicorn"), "-c", "innominatus/gunicorn_conf.py", "innominatus.wsgi:application"],
        env,
        work / "gunicorn.log",
    )
    worker = _start([str(VENV_BIN / "python"), "manage.py", "qcluster"], env, work / "qcluster.log")
    stack = Stack(base_url=f"http://127.0.0.1:{port}", web=web, worker=worker, logs=work)
    try:
        _wait_until_up(stack)
        yield stack
    finally:
        _stop(web)
        _stop(worker)
