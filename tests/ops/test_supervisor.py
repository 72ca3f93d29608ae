"""The worker master's judgement for its probes, and its view of the queue, with real processes and rows."""

import multiprocessing
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ

from ops.supervisor import process
from ops.supervisor.master import Slot, Supervisor


@pytest.fixture
def supervisor() -> Iterator[Supervisor]:
    """A master with one slot holding a real (sleeping) process, as if it were a worker process."""
    master = Supervisor(workers=1, drain_seconds=5)
    context = multiprocessing.get_context("fork")
    shared = process.Shared(
        state=context.RawArray("d", process.STATE_SIZE), ack=context.RawArray("c", process.ACK_SIZE)
    )
    slot = Slot(index=0, shared=shared, proc=context.Process(target=time.sleep, args=(60,), daemon=True))
    assert slot.proc is not None
    slot.proc.start()
    master.slots.append(slot)
    now = time.time()
    shared.state[process.BEAT], shared.state[process.BUSY_SINCE], shared.state[process.IDLE_SINCE] = (
        now,
        0,
        now,
    )
    try:
        yield master
    finally:
        slot.proc.kill()
        slot.proc.join()


@override_settings(WORKER_STALL_SECONDS=30)
def test_work_waiting_while_a_process_idles_fails_liveness(supervisor: Supervisor) -> None:
    state = supervisor.slots[0].shared.state
    supervisor.stall_seconds = 30
    assert supervisor.health() == (True, True, "1 worker process(es), 1 idle")
    # Idle for a minute, while a message has waited a minute: no progress.
    state[process.IDLE_SINCE] = time.time() - 60
    supervisor.oldest_waiting = 60.0
    live, ready, reason = supervisor.health()
    assert (live, ready) == (False, False) and "work has waited 60 s" in reason
    # The database could not be read: nothing is known about progress, the worker stays live.
    supervisor.oldest_waiting = None
    assert supervisor.health()[0] is True
    # Busy (a long step) is progress, whatever waits.
    supervisor.oldest_waiting = 600.0
    state[process.BUSY_SINCE] = time.time() - 500
    assert supervisor.health()[0] is True


def test_an_idle_process_that_stops_polling_or_a_hung_master_fails_liveness(supervisor: Supervisor) -> None:
    state = supervisor.slots[0].shared.state
    state[process.BEAT] = time.time() - supervisor.stall_seconds - 5
    assert supervisor.health()[0] is False
    state[process.BEAT] = time.time()
    supervisor.tick_at = time.monotonic() - 31
    assert supervisor.health()[2].startswith("the master loop has not run")


def test_draining_is_live_but_not_ready(supervisor: Supervisor) -> None:
    supervisor.draining_since = time.monotonic()
    assert supervisor.health() == (True, False, "draining: not taking new work")


@pytest.mark.django_db(transaction=True)
def test_the_master_reads_how_long_its_oldest_claimable_message_waited(supervisor: Supervisor) -> None:
    supervisor.broker = get_broker()
    now = timezone.now()
    supervisor._observe()
    assert supervisor.oldest_waiting == 0.0
    OrmQ.objects.create(key=supervisor.broker.list_key, payload="x", lock=now - timedelta(seconds=45))
    OrmQ.objects.create(key=supervisor.broker.list_key, payload="y", lock=now + timedelta(hours=1))
    OrmQ.objects.create(key="another-cluster", payload="z", lock=now - timedelta(hours=1))
    supervisor._observe()
    assert supervisor.oldest_waiting is not None and 45 <= supervisor.oldest_waiting < 60


@pytest.mark.django_db(transaction=True)
def test_take_claims_the_oldest_claimable_message_once() -> None:
    from ops.supervisor.queue import take

    broker = get_broker()
    now = timezone.now()
    held = OrmQ.objects.create(key=broker.list_key, payload="held", lock=now + timedelta(hours=1))
    first = OrmQ.objects.create(key=broker.list_key, payload="first", lock=now - timedelta(seconds=5))
    second = OrmQ.objects.create(key=broker.list_key, payload="second", lock=now - timedelta(seconds=1))
    OrmQ.objects.create(key="another-cluster", payload="other", lock=now - timedelta(hours=1))
    assert take(broker) == [(first.pk, "first")]
    assert take(broker) == [(second.pk, "second")]
    assert take(broker) == []
    # Taken messages are held until the retry time, like django-q2's own dequeue holds them.
    assert OrmQ.objects.get(pk=first.pk).lock > now + timedelta(seconds=60)
    assert OrmQ.objects.get(pk=held.pk).lock == held.lock
