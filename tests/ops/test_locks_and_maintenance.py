"""Database locks shared by replicas, and the maintenance window a restore opens."""

import contextlib
import subprocess
import threading
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection, transaction
from django.test import Client

from innominatus.locks import LockHeld, advisory_key, command_lock
from ops import maintenance
from tests.ops.servers import REPO, VENV_BIN, manage, subprocess_env
from workflows.services import steprows

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


def _restore_waiting() -> bool:
    """Whether some session waits for the maintenance lock (the restore queued behind a writer)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        (waiting,) = cursor.fetchone()
    return bool(waiting)


def test_writes_from_any_connection_are_refused_while_the_gate_is_closed() -> None:
    with maintenance.hold():
        with pytest.raises(maintenance.MaintenanceActive):
            User.objects.create(username="during")
        with pytest.raises(maintenance.MaintenanceActive), transaction.atomic():
            User.objects.filter(username="nobody").update(email="x@example.com")
        assert User.objects.filter(username="during").count() == 0, "reads still work"
    User.objects.create(username="after")
    assert User.objects.filter(username="after").exists()


def test_the_engines_prebuilt_statements_pass_the_gate_too() -> None:
    """A step finishing during a restore may not record itself: its statements bypass the ORM's cursor."""
    with maintenance.hold():
        with pytest.raises(maintenance.MaintenanceActive), transaction.atomic():
            steprows.update_where(User, {"email": "x@example.com"}, {"username": "nobody"})
        with (
            pytest.raises(maintenance.MaintenanceActive),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "WITH gone AS (DELETE FROM auth_user WHERE false RETURNING id) SELECT count(*) FROM gone"
            )
    with transaction.atomic():
        assert steprows.update_where(User, {"email": "x@example.com"}, {"username": "nobody"}) == 0


def test_a_transaction_takes_the_gate_once_however_many_writes_it_makes(monkeypatch: Any) -> None:
    taken: list[str] = []
    original = maintenance._raw_scalar

    def counted(wrapper: Any, sql: str, params: list[Any]) -> Any:
        taken.append(sql)
        return original(wrapper, sql, params)

    monkeypatch.setattr(maintenance, "_raw_scalar", counted)
    with transaction.atomic():
        User.objects.create(username="a")
        User.objects.create(username="b")
    assert len(taken) == 1
    User.objects.create(username="c")
    assert len(taken) == 2, "a new transaction takes the gate again"
    with transaction.atomic():
        with contextlib.suppress(ValueError), transaction.atomic():
            User.objects.create(username="d")
            raise ValueError
        User.objects.create(username="e")
    assert len(taken) == 4, "a rollback to a savepoint releases what was taken inside it"
    assert set(User.objects.values_list("username", flat=True)) == {"a", "b", "c", "e"}


def test_the_restore_waits_for_a_write_in_flight_and_refuses_new_ones() -> None:
    wrote, commit, closed = threading.Event(), threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            User.objects.create(username="in-flight")
            wrote.set()
            commit.wait(10)
        connection.close()

    def restore() -> None:
        with maintenance.hold():
            closed.set()
        connection.close()

    threads = [threading.Thread(target=writer), threading.Thread(target=restore)]
    threads[0].start()
    assert wrote.wait(10)
    threads[1].start()
    wait_until = time.monotonic() + 10
    while not _restore_waiting() and time.monotonic() < wait_until:
        time.sleep(0.05)
    assert _restore_waiting() and not closed.is_set(), "the restore waits for the write in flight"
    with pytest.raises(maintenance.MaintenanceActive):
        User.objects.create(username="late")
    commit.set()
    for thread in threads:
        thread.join(10)
    assert closed.is_set()
    assert set(User.objects.values_list("username", flat=True)) == {"in-flight"}


def test_a_restore_gives_up_when_work_in_flight_outlasts_its_wait() -> None:
    with transaction.atomic():
        User.objects.create(username="slow")
        holder = threading.Thread(target=_expect_gate_timeout)
        holder.start()
        holder.join(10)
    assert not holder.is_alive()
    User.objects.create(username="after-timeout")


def _expect_gate_timeout() -> None:
    try:
        with pytest.raises(maintenance.GateTimeout), maintenance.hold(wait_seconds=0.3):
            pass
    finally:
        connection.close()


def _database_gone(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


@pytest.mark.parametrize("path", ["/api/workflows", "/apps", "/admin/"])
def test_a_database_lost_inside_the_request_answers_503_not_500(client: Client, path: str) -> None:
    user = User.objects.create_superuser(username="root", password="pw-root-123")
    client.force_login(user)
    with connection.execute_wrapper(_database_gone):
        response = client.get(path)
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "10"
    assert response.json()["code"] == "database_unavailable"


def test_every_django_process_gates_its_writes_not_only_web_requests() -> None:
    # qcluster workers are manage.py processes like this one: the gate is installed on every connection.
    write = "from django.contrib.auth.models import User; User.objects.create(username='from-a-worker')"
    with maintenance.hold():
        refused = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", "shell", "-c", write],
            cwd=REPO,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert refused.returncode != 0
    assert "MaintenanceActive" in refused.stderr, refused.stderr[-2000:]
    assert not User.objects.filter(username="from-a-worker").exists()
    manage("shell", "-c", write, env=subprocess_env())
    assert User.objects.filter(username="from-a-worker").exists()
