"""Fixtures for the Score ingest tests: the vendored samples and a minimal valid spec."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "score"
SAMPLES = sorted(path.name for path in DATA.glob("*.yaml"))

MINIMAL: dict[str, Any] = {
    "apiVersion": "score.dev/v1b1",
    "metadata": {"name": "demo"},
    "containers": {"main": {"image": "nginx:1.27"}},
}


@pytest.fixture
def sample() -> Callable[[str], bytes]:
    """Read a vendored sample file as the raw bytes a client would upload."""

    def read(name: str) -> bytes:
        return (DATA / name).read_bytes()

    return read


@pytest.fixture
def minimal() -> dict[str, Any]:
    """A fresh copy of the smallest valid spec, for tests to modify."""
    return copy.deepcopy(MINIMAL)
