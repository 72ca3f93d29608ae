"""A fresh event hub per test, stopped (its listening connection closed) at the end."""

from collections.abc import Iterator
from typing import Any

import pytest

from workflows.events import hub as hub_module


@pytest.fixture
def event_hub(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[hub_module.Hub]:
    settings.EVENTS_KEEPALIVE_SECONDS = 0.3
    settings.EVENTS_POLL_SECONDS = 0.1
    fresh = hub_module.Hub()
    monkeypatch.setattr(hub_module, "_hub", fresh)
    try:
        yield fresh
    finally:
        fresh.close()
