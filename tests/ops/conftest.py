"""Fixtures for the ops tests: free ports, subprocess environments, servers and a throwaway PostgreSQL."""

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from ops.health.checks import EXECUTOR

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"


@pytest.fixture(autouse=True)
def _close_health_thread_connections() -> Iterator[None]:
    """The health checks' thread keeps a connection; close it so the test database can be dropped."""
    yield
    EXECUTOR.submit(connections.close_all).result(timeout=10)


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
