"""A running step's companion: renews its lease, flushes its log, and notices when it must stop.

Each thread that runs steps has one companion thread, started with its first step and reused for
every step after it: a chain of short steps would otherwise pay a thread start and join per step. The
companion looks at the current step every FLUSH_INTERVAL rather than being woken for each step.
"""

import logging
import threading
import time
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution
from workflows.services.steplog import StepLogWriter

logger = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.2
STATUS_INTERVAL = 1.0
# A renewal that failed (the database is unreachable) is tried again this soon, not a third of a lease later.
RENEW_RETRY = 1.0
# Taken off the lease as this worker counts it: the database's clock started it a little earlier.
LEASE_MARGIN = 1.0
# A companion that has had nothing to watch for this long sleeps until the next step (and closes its
# database connection); until then it looks every FLUSH_INTERVAL, so a chain of short steps never has to
# wake it.
IDLE_AFTER = 2.0


class Watch:
    """One attempt of one step, as its companion sees it."""

    def __init__(
        self,
        *,
        step_id: int,
        execution_id: str,
        owner: str,
        lease_seconds: int,
        deadline: datetime | None,
        writer: StepLogWriter,
    ) -> None:
        self.step_id = step_id
        self.execution_id = execution_id
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.deadline = deadline
        self.writer = writer
        self.started = time.monotonic()
        self.released = threading.Event()
        # Held while a tick runs: the runner's last flush and its record transaction must not overlap a
        # tick (a tick's log insert would wait for the execution row the runner has locked, while the
        # runner waited for the tick's flush).
        self.ticking = threading.Lock()
        self._reason: str | None = None
        self._last_status = time.monotonic()
        self._next_renew = self.started + lease_seconds / 3
        # Until when the lease surely holds, on this worker's monotonic clock: moved by each renewal.
        self.valid_until = self.started + lease_seconds - LEASE_MARGIN
        # Set once the step's work is done: only the lease is kept while its result is recorded.
        self.finishing = False

    def check_stop(self) -> str | None:
        """Why the step must stop now, or None; cheap enough to call in every wait loop.

        A lease this worker could not renew in time ends the attempt even when the database cannot be
        asked: the reaper may hand the step to another worker once the lease expired (plus the fencing
        grace), and by then this attempt's processes must be gone."""
        if self._reason is None and time.monotonic() > self.valid_until:
            self._reason = "lease lost: it could not be renewed in time (is the database reachable?)"
        if self._reason is None and self.deadline is not None and timezone.now() >= self.deadline:
            self._reason = "the workflow's timeout expired"
        return self._reason

    def lease_remaining(self) -> float:
        """Seconds the lease surely holds from now (negative once it may have expired)."""
        return self.valid_until - time.monotonic()

    def finish(self) -> None:
        """The step's work is done: from now on ticks only renew the lease (the runner flushes and records)."""
        with self.ticking:
            self.finishing = True

    def tick(self) -> None:
        """Flush the log; now and then look for a cancellation and renew the lease."""
        now = time.monotonic()
        if not self.finishing:
            self.writer.flush()
            if now - self._last_status >= STATUS_INTERVAL:
                self._last_status = now
                self._check_execution()
        if now >= self._next_renew:
            self._renew()

    def _check_execution(self) -> None:
        status = (
            WorkflowExecution.objects.filter(pk=self.execution_id).values_list("status", flat=True).first()
        )
        if status == ExecutionStatus.CANCELLED and self._reason is None:
            self._reason = "cancelled"

    def _renew(self) -> None:
        sent = time.monotonic()
        self._next_renew = sent + RENEW_RETRY
        close_old_connections()
        renewed = StepExecution.objects.filter(
            pk=self.step_id, status=StepStatus.RUNNING, lease_owner=self.owner
        ).update(lease_expires_at=timezone.now() + timedelta(seconds=self.lease_seconds))
        if renewed:
            self.valid_until = sent + self.lease_seconds - LEASE_MARGIN
            self._next_renew = sent + self.lease_seconds / 3
        elif self._reason is None and not self.finishing:
            self._reason = "lease lost: another worker or the reaper took this step over"

    def release(self) -> None:
        """The attempt is over: the companion stops looking after it (the runner does the final flush).

        Returns once a tick already under way has finished; no tick starts after it.
        """
        self.released.set()
        with self.ticking:
            pass


class StepMonitor(threading.Thread):
    """The companion thread of one step-running thread; watches one attempt at a time."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._changed = threading.Condition()
        self._watch: Watch | None = None
        self._sleeping = False

    def watch(self, watch: Watch) -> Watch:
        """Look after `watch` from now on; the step's thread wakes the companion only if it sleeps."""
        with self._changed:
            self._watch = watch
            if self._sleeping:
                self._changed.notify()
        return watch

    def run(self) -> None:
        busy_at = time.monotonic()
        while True:
            watch, now = self._watch, time.monotonic()
            if watch is not None and not watch.released.is_set():
                busy_at = now
                # A step younger than one interval has nothing to flush yet, and most end before.
                if now - watch.started >= FLUSH_INTERVAL:
                    self._tick(watch)
            elif now - busy_at >= IDLE_AFTER:
                connection.close()  # a sleeping companion holds no database connection
                with self._changed:
                    self._sleeping = True
                    while self._watch is watch:
                        self._changed.wait()
                    self._sleeping = False
                busy_at = time.monotonic()
                continue
            time.sleep(FLUSH_INTERVAL)

    @staticmethod
    def _tick(watch: Watch) -> None:
        with watch.ticking:
            if watch.released.is_set():
                return
            try:
                watch.tick()
            except Exception:  # a database hiccup must not end the watch: the next tick retries
                logger.warning("step monitor tick failed", exc_info=True)
                close_old_connections()


_companions = threading.local()


def companion() -> StepMonitor:
    """This thread's companion, started with its first step."""
    monitor: StepMonitor | None = getattr(_companions, "monitor", None)
    if monitor is None or not monitor.is_alive():
        monitor = StepMonitor(name=f"step-monitor-{threading.get_ident()}")
        monitor.start()
        _companions.monitor = monitor
    return monitor
