"""Fixtures for the ops tests."""

from collections.abc import Iterator

import pytest
from django.db import connections

from ops.health.checks import EXECUTOR


@pytest.fixture(autouse=True)
def _close_health_thread_connections() -> Iterator[None]:
    """The health checks' thread keeps a connection; close it so the test database can be dropped."""
    yield
    EXECUTOR.submit(connections.close_all).result(timeout=10)
