"""The master of `manage.py worker`: starts worker processes, replaces dead ones, runs the q2 scheduler,
and stops them on SIGTERM/SIGINT within the drain time.

The signal handler only notes the time; the loop does the work. django-q2's own master stops the cluster
inside its handler and deadlocks when a second signal arrives meanwhile (upstream issue #346).
"""

import contextlib
import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.context import ForkProcess
from typing import Any

from django import db
from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.scheduler import scheduler

from ops.metrics.exposition import multiprocess_dir
from ops.supervisor import handback, osproc, process
from ops.supervisor.probe import ProbeServer

logger = logging.getLogger(__name__)

TICK = 0.25
SCHEDULER_EVERY = 30.0
OBSERVE_EVERY = 5.0
# How often a worker following the web Deployment's DB_PASSWORD_SECRET looks for a rotation.
FOLLOW_EVERY = 30.0
# After the drain time, the worker processes hand back their steps; this much more and they are killed.
KILL_MARGIN = 4.0


@dataclass
class Slot:
    """One worker process and the state it shares with the master."""

    index: int
    shared: process.Shared
    proc: ForkProcess | None = None
    started: float = field(default_factory=time.time)


class Supervisor:
    """Runs `workers` processes until asked to stop; `run()` returns the exit code."""

    def __init__(self, *, workers: int, drain_seconds: float, probe_port: int = 0) -> None:
        self.workers = workers
        self.drain_seconds = drain_seconds
        self.probe_port = probe_port
        self.stall_seconds = float(settings.WORKER_STALL_SECONDS)
        self.context = multiprocessing.get_context("fork")
        self.slots: list[Slot] = []
        self.stop_requested = 0.0
        self.signals = 0
        self.draining_since = 0.0
        self.tick_at = time.monotonic()
        # Age of the oldest claimable message of our queue, read every OBSERVE_EVERY (None: unknown).
        self.oldest_waiting: float | None = None
        self.broker: Broker | None = None

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signals += 1
        if not self.stop_requested:
            self.stop_requested = time.monotonic()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.broker = get_broker()
        for index in range(self.workers):
            shared = process.Shared(
                state=self.context.RawArray("d", process.STATE_SIZE),
                ack=self.context.RawArray("c", process.ACK_SIZE),
            )
            self.slots.append(Slot(index=index, shared=shared))
            self._spawn(self.slots[-1])
        probe = ProbeServer(self, self.probe_port) if self.probe_port else None
        if probe:
            probe.start()
        logger.info(
            "worker started",
            extra={"pid": os.getpid(), "workers": self.workers, "drain_seconds": self.drain_seconds},
        )
        last_schedule = last_observe = 0.0
        last_follow = time.monotonic()
        try:
            while True:
                now = time.monotonic()
                self.tick_at = now
                if self.stop_requested and not self.draining_since:
                    self._begin_drain()
                if self.draining_since:
                    if self._drained(now):
                        break
                else:
                    self._replace_dead()
                    if Conf.SCHEDULER and now - last_schedule >= SCHEDULER_EVERY:
                        last_schedule = now
                        self._schedule()
                    if now - last_observe >= OBSERVE_EVERY:
                        last_observe = now
                        self._observe()
                    if settings.DB_PASSWORD_SECRET_FROM and now - last_follow >= FOLLOW_EVERY:
                        last_follow = now
                        self.follow_password_secret()
                time.sleep(TICK)
        finally:
            if probe:
                probe.stop()
        logger.info("worker stopped", extra={"pid": os.getpid(), "signals": self.signals})
        return 0

    def _spawn(self, slot: Slot) -> None:
        db.connections.close_all()  # a forked child must not share the master's connection
        now = time.time()
        slot.shared.state[process.BEAT] = now
        slot.shared.state[process.BUSY_SINCE] = 0.0
        slot.shared.state[process.IDLE_SINCE] = now
        slot.shared.set_ack(None)
        slot.started = now
        slot.proc = self.context.Process(
            target=process.run,
            name=f"innominatus-worker-{slot.index}",
            kwargs={
                "name": f"innominatus-worker-{slot.index}",
                "shared": slot.shared,
                "master_pid": os.getpid(),
                "drain_seconds": self.drain_seconds,
            },
            daemon=False,
        )
        slot.proc.start()

    def _replace_dead(self) -> None:
        for slot in self.slots:
            proc = slot.proc
            if proc is None:
                continue
            busy_since = slot.shared.state[process.BUSY_SINCE]
            if proc.is_alive() and busy_since and time.time() - busy_since > Conf.TIMEOUT + 10:
                # The q2 timeout inside the process did not end the task: the process is replaced.
                logger.error("worker process overran the task timeout; killing it", extra={"pid": proc.pid})
                osproc.kill_all([*osproc.descendants(proc.pid or 0), proc.pid or 0])
            if proc.is_alive():
                continue
            proc.join(0)
            self._forget_metrics(proc.pid)
            ack_id = slot.shared.ack_id()
            logger.critical(
                "worker process died; starting a new one",
                extra={"pid": proc.pid, "exitcode": proc.exitcode, "ack_id": ack_id or None},
            )
            if ack_id and self.broker is not None:
                self._drop(ack_id)
            self._spawn(slot)

    @staticmethod
    def _forget_metrics(pid: int | None) -> None:
        """Live gauges of a dead process leave the pod's metrics; its counts stay in the totals."""
        directory = multiprocess_dir()
        if directory and pid:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(pid, directory)

    def _drop(self, ack_id: str) -> None:
        assert self.broker is not None
        try:
            handback.drop_message(self.broker, ack_id)
        except Exception:
            logger.warning("could not acknowledge a dead worker's message", exc_info=True)
            db.connections.close_all()

    def _schedule(self) -> None:
        try:
            scheduler(broker=self.broker)
        except Exception:
            logger.warning("scheduler pass failed", exc_info=True)
        db.connections.close_all()

    def _observe(self) -> None:
        """Read how long our queue's oldest claimable message has waited (the probes' progress test)."""
        if not isinstance(self.broker, ORM):
            return
        try:
            oldest = (
                self.broker.get_connection()
                .filter(key=self.broker.list_key, lock__lte=timezone.now())
                .aggregate(first=Min("lock"))["first"]
            )
            self.oldest_waiting = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        except Exception:
            self.oldest_waiting = None  # a database outage says nothing about this worker's progress
        db.connections.close_all()

    def follow_password_secret(self) -> bool:
        """Stop gracefully (exit 0; Kubernetes starts the container again, which reads the new Secret)
        when the web Deployment names another DB_PASSWORD_SECRET than this worker started with."""
        from django.core.exceptions import ImproperlyConfigured

        from innominatus.kube_secret import followed_secret_name

        try:
            wanted = followed_secret_name(settings.DB_PASSWORD_SECRET_FROM, settings.DB_PASSWORD_SECRET)
        except ImproperlyConfigured as exc:
            logger.warning("cannot follow the database password Secret: %s", exc)
            return False
        if wanted == settings.DB_PASSWORD_SECRET:
            return False
        logger.warning(
            "database password Secret changed from %s to %s: restarting to use it",
            settings.DB_PASSWORD_SECRET or "(none)",
            wanted,
        )
        if not self.stop_requested:
            self.stop_requested = time.monotonic()
        return True

    def _begin_drain(self) -> None:
        self.draining_since = time.monotonic()
        logger.info(
            "worker stopping: no new work; running steps get the drain time",
            extra={"drain_seconds": self.drain_seconds},
        )
        # A SIGTERM sent to the master alone reaches the worker processes through here.
        for slot in self.slots:
            if slot.proc is not None and slot.proc.is_alive() and slot.proc.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.proc.pid, signal.SIGTERM)

    def _drained(self, now: float) -> bool:
        running = [slot.proc for slot in self.slots if slot.proc is not None and slot.proc.is_alive()]
        if not running:
            return True
        if now - self.draining_since < self.drain_seconds + KILL_MARGIN:
            return False
        logger.error(
            "worker processes did not stop in time; killing them", extra={"pids": [p.pid for p in running]}
        )
        pids = [proc.pid for proc in running if proc.pid]
        osproc.kill_all([pid for pid in pids for pid in (*osproc.descendants(pid), pid)])
        return True

    def health(self) -> tuple[bool, bool, str]:
        """(live, ready, reason) for the probes; computed from memory only, so a probe never blocks."""
        now_wall, now = time.time(), time.monotonic()
        if now - self.tick_at > 30:
            return False, False, f"the master loop has not run for {now - self.tick_at:.0f} s"
        if self.draining_since:
            return True, False, "draining: not taking new work"
        alive = [slot for slot in self.slots if slot.proc is not None and slot.proc.is_alive()]
        idle_for = [
            now_wall - slot.shared.state[process.IDLE_SINCE]
            for slot in alive
            if not slot.shared.state[process.BUSY_SINCE] and slot.shared.state[process.IDLE_SINCE]
        ]
        stale_beats = [
            now_wall - slot.shared.state[process.BEAT]
            for slot in alive
            if not slot.shared.state[process.BUSY_SINCE]
        ]
        if any(age > self.stall_seconds for age in stale_beats):
            return (
                False,
                False,
                f"an idle worker process has not polled the queue for {max(stale_beats):.0f} s",
            )
        waiting = self.oldest_waiting
        if (
            waiting is not None
            and waiting > self.stall_seconds
            and any(i > self.stall_seconds for i in idle_for)
        ):
            return False, False, f"work has waited {waiting:.0f} s while a worker process sits idle"
        if not alive:
            return True, False, "no worker process is running"
        return True, True, f"{len(alive)} worker process(es), {len(idle_for)} idle"
