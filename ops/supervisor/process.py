"""One worker process of `manage.py worker`: takes one queue message at a time from the broker itself.

django-q2's own cluster feeds its workers through a shared multiprocessing queue whose lock a killed
worker can keep forever (upstream issue #23), and its pusher prefetches messages that still run after
SIGTERM. Here each worker dequeues only when it is idle and not stopping, so nothing is prefetched and
no lock is shared between processes. Results are saved and acknowledged as django-q2's monitor does.
"""

import ctypes
import logging
import os
import pydoc
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

from django import db
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.conf import Conf, error_reporter
from django_q.exceptions import TimeoutException
from django_q.monitor import save_cached, save_task
from django_q.signals import post_execute, post_execute_in_worker, post_spawn, pre_execute
from django_q.signing import BadSignature, SignedPackage
from django_q.timeout import TimeoutHandler
from django_q.utils import close_old_django_connections

from ops.supervisor import handback, osproc, queue
from workflows import shutdown

logger = logging.getLogger(__name__)

# Slots of a worker's shared state (a lock-free array of doubles the master reads).
BEAT, BUSY_SINCE, IDLE_SINCE = 0, 1, 2
STATE_SIZE = 3
ACK_SIZE = 64
WATCH_INTERVAL = 0.2


@dataclass
class Shared:
    """What a worker tells its master without locks: wall-clock times and the message it works on."""

    state: "ctypes.Array[ctypes.c_double]"
    ack: "ctypes.Array[ctypes.c_char]"

    def set_ack(self, ack_id: object) -> None:
        self.ack.value = str(ack_id).encode()[: ACK_SIZE - 1] if ack_id is not None else b""

    def ack_id(self) -> str:
        return bytes(self.ack.value).decode(errors="replace")


@dataclass
class Current:
    """The message this process is running, for the drain watcher (None between messages)."""

    broker: Broker
    ack_id: Any
    payload: str
    func: str


class _Stop:
    """Set from a signal handler: a plain attribute, no lock (a lock taken there is what deadlocks q2)."""

    requested_at = 0.0
    current: Current | None = None


def _request_stop(signum: int, frame: Any) -> None:
    shutdown.request()
    if not _Stop.requested_at:
        _Stop.requested_at = time.monotonic()


def run(*, name: str, shared: Shared, master_pid: int, drain_seconds: float) -> None:
    """The process target: serve messages until SIGTERM/SIGINT (or the master's death), then drain."""
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)
    # The kernel sends SIGTERM when the master dies; the watcher also compares getppid() in case the
    # master died before this line ran.
    osproc.set_parent_death_signal(signal.SIGTERM)
    now = time.time()
    shared.state[BEAT], shared.state[BUSY_SINCE], shared.state[IDLE_SINCE] = now, 0.0, now
    post_spawn.send(sender="django_q", proc_name=name)
    watcher = _DrainWatcher(shared=shared, master_pid=master_pid, drain_seconds=drain_seconds)
    watcher.start()
    broker = get_broker()
    logger.info("worker process ready", extra={"worker": name, "pid": os.getpid()})
    while not _Stop.requested_at:
        shared.state[BEAT] = time.time()
        try:
            messages = queue.take(broker)
        except Exception:
            logger.warning("could not take a message from the queue", exc_info=True)
            db.connections.close_all()
            time.sleep(1)
            continue
        for ack_id, payload in messages:
            if _Stop.requested_at:
                _give_back(broker, ack_id, payload)
                continue
            if not _serve(broker, shared, ack_id, payload):
                _Stop.requested_at = _Stop.requested_at or time.monotonic()
    logger.info("worker process stopped taking messages", extra={"worker": name, "pid": os.getpid()})


def _give_back(broker: Broker, ack_id: Any, payload: str) -> None:
    """A message taken but not started goes back to the queue, claimable at once."""
    try:
        handback.return_message(broker, ack_id, payload)
        logger.info("returned an unstarted message to the queue", extra={"ack_id": str(ack_id)})
    except Exception:
        logger.warning("could not return a message to the queue", exc_info=True)


def _serve(broker: Broker, shared: Shared, ack_id: Any, payload: str) -> bool:
    """Run one message; False when the process must be replaced (its task timed out)."""
    try:
        task: dict[str, Any] = SignedPackage.loads(payload)
    except (TypeError, BadSignature):
        logger.exception("dropping a queue message that cannot be unpacked")
        broker.fail(ack_id)
        return True
    task["cluster"], task["ack_id"] = Conf.CLUSTER_NAME, ack_id
    _Stop.current = Current(broker, ack_id, payload, str(task.get("func", "")))
    shared.set_ack(ack_id)
    shared.state[BUSY_SINCE], shared.state[IDLE_SINCE] = time.time(), 0.0
    try:
        timed_out = _execute(task)
        _finish(broker, task)
    finally:
        _Stop.current = None
        shared.set_ack(None)
        now = time.time()
        shared.state[BUSY_SINCE], shared.state[IDLE_SINCE], shared.state[BEAT] = 0.0, now, now
    return not timed_out


def _execute(task: dict[str, Any]) -> bool:
    """Call the task's function as django-q2's worker does; True when it hit the q2 timeout."""
    func = task["func"]
    if not callable(func):
        func = pydoc.locate(func)
    close_old_django_connections()
    seconds = task.pop("timeout", Conf.TIMEOUT)
    pre_execute.send(sender="django_q", func=func, task=task)
    timed_out = False
    try:
        if func is None:
            raise ValueError(f"Function {task['func']} is not defined")
        with TimeoutHandler(-1 if seconds is None else int(seconds)):
            result, success = func(*task["args"], **task["kwargs"]), True
    except (Exception, TimeoutException) as exc:
        timed_out = isinstance(exc, TimeoutException)
        result, success = f"{exc} : {traceback.format_exc()}", False
        if error_reporter:
            error_reporter.report()
    task["result"], task["success"], task["stopped"] = result, success, timezone.now()
    post_execute_in_worker.send(sender="django_q", func=func, task=task)
    return timed_out


def _finish(broker: Broker, task: dict[str, Any]) -> None:
    """Save the result and acknowledge the message (django-q2's monitor, in the worker itself)."""
    try:
        if task.get("cached", False):
            save_cached(task, broker)
        else:
            save_task(task, broker)
        ack_id = task.pop("ack_id", None)
        if ack_id and (task["success"] or task.get("ack_failure", False)):
            broker.acknowledge(ack_id)
    except Exception:
        logger.exception("could not save or acknowledge a task result")
        db.connections.close_all()
        return
    post_execute.send(sender="django_q", task=task)
    level = logging.INFO if task["success"] else logging.ERROR
    logger.log(level, "task finished", extra={"task": task.get("name"), "success": task["success"]})


class _DrainWatcher(threading.Thread):
    """Once a stop is requested, lets the running task finish within the drain time, else hands it back.

    A step that this process starts after the stop (a chained successor) is handed back at once: after
    SIGTERM no new step starts here.
    """

    def __init__(self, *, shared: Shared, master_pid: int, drain_seconds: float) -> None:
        super().__init__(name="innominatus-drain", daemon=True)
        self.shared, self.master_pid, self.drain_seconds = shared, master_pid, drain_seconds

    def run(self) -> None:
        while not _Stop.requested_at:
            if os.getppid() != self.master_pid:
                logger.warning("worker master is gone; stopping", extra={"master_pid": self.master_pid})
                _request_stop(signal.SIGTERM, None)
                break
            time.sleep(WATCH_INTERVAL)
        stop_wall = time.time() - (time.monotonic() - _Stop.requested_at)
        deadline = _Stop.requested_at + self.drain_seconds
        # Until the process ends: a task may still begin after the stop (taken just before it).
        while True:
            time.sleep(WATCH_INTERVAL * 2.5)
            if not self.shared.state[BUSY_SINCE]:
                continue
            late = time.monotonic() >= deadline
            try:
                started_after = handback.steps_started_since(stop_wall)
            except Exception:
                logger.warning("could not read this worker's running steps", exc_info=True)
                db.connections.close_all()
                started_after = False
            if late or started_after:
                reason = "the drain time ran out" if late else "no step may start after SIGTERM"
                current = _Stop.current
                message = (
                    None
                    if current is None
                    else (current.broker, current.ack_id, current.payload, current.func)
                )
                handback.hand_back_and_exit(reason, message)
