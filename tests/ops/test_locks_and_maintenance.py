"""Database locks shared by replicas, and the maintenance window a restore opens."""

import threading
import time
from typing import Any

import pytest
from django.test import Client

from innominatus.locks import LockHeld, advisory_key, command_lock
from ops import maintenance

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_lock_is_exclusive_across_connections_and_released_after_the_block() -> None:
    with command_lock("innominatus:test"):
        with pytest.raises(LockHeld), command_lock("innominatus:test"):
            pass
        with command_lock("innominatus:other"):
            pass
    with command_lock("innominatus:test"):
        pass


def test_a_lock_held_in_another_thread_is_seen() -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with command_lock("innominatus:thread"):
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=hold)
    worker.start()
    holding.wait(10)
    try:
        with pytest.raises(LockHeld), command_lock("innominatus:thread"):
            pass
    finally:
        release.set()
        worker.join()


def test_advisory_keys_are_stable_64_bit_integers() -> None:
    key = advisory_key("innominatus:maintenance")
    assert key == advisory_key("innominatus:maintenance")
    assert -(2**63) <= key < 2**63


def test_the_api_answers_503_with_retry_after_during_a_restore(client: Client, monkeypatch: Any) -> None:
    monkeypatch.setattr(maintenance, "CACHE_SECONDS", 0.0)
    assert not maintenance.is_active()
    with maintenance.hold():
        assert maintenance.is_active()
        response = client.get("/api/workflows")
        assert response.status_code == 503
        assert response["Retry-After"] == "30"
        assert response.json()["code"] == "maintenance"
        # Probes keep answering so that the orchestrator does not restart the pods.
        assert client.get("/health").status_code in (200, 503)
        assert client.get("/metrics").status_code == 200
        with pytest.raises(LockHeld), maintenance.hold():
            pass
    assert not maintenance.is_active()
    assert client.get("/api/workflows").status_code != 503


def test_workers_pause_until_the_restore_ends(monkeypatch: Any) -> None:
    monkeypatch.setattr(maintenance, "CACHE_SECONDS", 0.0)
    waited: list[float] = []
    entered = threading.Event()
    release = threading.Event()

    def restore() -> None:
        with maintenance.hold():
            entered.set()
            release.wait(10)

    restorer = threading.Thread(target=restore)
    restorer.start()
    entered.wait(10)
    worker = threading.Thread(target=lambda: waited.append(maintenance.wait_while_active(poll_seconds=0.1)))
    worker.start()
    time.sleep(0.6)
    assert worker.is_alive(), "the worker must wait while the restore runs"
    release.set()
    restorer.join()
    worker.join(10)
    assert waited and waited[0] >= 0.5
