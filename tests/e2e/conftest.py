"""Real processes for end-to-end tests: workers (`manage.py worker`) and gunicorn against the test database."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def process_env(transactional_db: Any, tmp_path: Path, settings: Any) -> dict[str, str]:
    """Environment for child processes: the test database, fast leases, real (not sync) django-q2."""
    # This process only enqueues; the workers run everything.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    database = connection.settings_dict
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "DJANGO_SETTINGS")) or key == "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        {
            "DB_HOST": str(database["HOST"] or "127.0.0.1"),
            "DB_PORT": str(database["PORT"] or 5432),
            "DB_USER": str(database["USER"]),
            "DB_PASSWORD": str(database["PASSWORD"] or ""),
            "DB_NAME": str(database["NAME"]),
            "SECRET_KEY": os.environ.get("SECRET_KEY", "e2e-secret-key"),
            "Q_SYNC": "false",
            "Q_POLL": "0.05",
            "STEP_LEASE_SECONDS": "5",
            "REAPER_INTERVAL_SECONDS": "1",
            "WORKER_DRAIN_SECONDS": "5",
            "STEP_WORK_ROOT": str(tmp_path / "work"),
            "INNOMINATUS_DATA_DIR": str(tmp_path / "data"),
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class Processes:
    """Starts child processes in their own process groups and stops them all at the end."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.children: list[subprocess.Popen[bytes]] = []

    def start(
        self, *args: str, name: str, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        child = subprocess.Popen(
            list(args),
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append(child)
        return child

    def worker(
        self, name: str = "worker", workers: int = 2, extra_env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        return self.start(
            sys.executable,
            "manage.py",
            "worker",
            name=name,
            extra_env={"Q_WORKERS": str(workers), **(extra_env or {})},
        )

    def gunicorn(self, workers: int = 2) -> str:
        port = free_port()
        self.start(
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:innominatus.gunicorn_conf",
            "innominatus.wsgi",
            name=f"gunicorn-{port}",
            extra_env={"PORT": str(port), "BIND_ADDRESS": "127.0.0.1", "GUNICORN_WORKERS": str(workers)},
        )
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(url), timeout=30, what="gunicorn to answer")
        return url

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for child in self.children:
            if child.poll() is None:
                with_group(child, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with_group(child, signal.SIGKILL)
                child.wait()
        # Workers are grandchildren: wait until every process group is gone, so no connection lingers.
        for child in self.children:
            if not wait_for_group_exit(child.pid, timeout=max(0.1, deadline - time.monotonic())):
                with_group(child, signal.SIGKILL)
                wait_for_group_exit(child.pid, timeout=5)


def with_group(child: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, sig)


def wait_for_group_exit(pgid: int, *, timeout: float) -> bool:
    """Whether every process of the group has exited within `timeout` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _answers(url: str) -> bool:
    # /health, not the schema: generating the schema takes longer than the probe's timeout on a loaded machine.
    try:
        requests.get(url + "/health", timeout=5)
    except requests.RequestException:
        return False
    return True


def wait_until(predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def processes(process_env: dict[str, str], tmp_path: Path) -> Iterator[Processes]:
    """Start real processes; all are stopped (and their database connections closed) afterwards."""
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    running = Processes(process_env, log_dir)
    try:
        yield running
    finally:
        running.stop_all()
