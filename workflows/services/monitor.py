"""A running step's companion thread: renews its lease, flushes its log, and notices when it must stop."""

import threading
import time
from datetime import datetime, timedelta

from django.db import close_old_connections, connection
from django.utils import timezone

from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution
from workflows.services.steplog import StepLogWriter

FLUSH_INTERVAL = 0.2
STATUS_INTERVAL = 1.0


class StepMonitor(threading.Thread):
    """Heartbeats the lease every third of its length; `check_stop()` reports why the step must stop."""

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
        super().__init__(name=f"step-monitor-{step_id}", daemon=True)
        self.step_id = step_id
        self.execution_id = execution_id
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.deadline = deadline
        self.writer = writer
        self._stop_event = threading.Event()
        self._reason: str | None = None

    def check_stop(self) -> str | None:
        """Why the step must stop now, or None; cheap enough to call in every wait loop."""
        if self._reason is None and self.deadline is not None and timezone.now() >= self.deadline:
            self._reason = "the workflow's timeout expired"
        return self._reason

    def run(self) -> None:
        last_status = last_renew = time.monotonic()
        try:
            while not self._stop_event.wait(FLUSH_INTERVAL):
                self.writer.flush()
                now = time.monotonic()
                if now - last_status >= STATUS_INTERVAL:
                    last_status = now
                    self._check_execution()
                if now - last_renew >= self.lease_seconds / 3:
                    last_renew = now
                    self._renew()
        finally:
            # The step's own thread does the final flush; close only what this thread opened.
            connection.close()

    def _check_execution(self) -> None:
        status = (
            WorkflowExecution.objects.filter(pk=self.execution_id).values_list("status", flat=True).first()
        )
        if status == ExecutionStatus.CANCELLED and self._reason is None:
            self._reason = "cancelled"

    def _renew(self) -> None:
        close_old_connections()
        renewed = StepExecution.objects.filter(
            pk=self.step_id, status=StepStatus.RUNNING, lease_owner=self.owner
        ).update(lease_expires_at=timezone.now() + timedelta(seconds=self.lease_seconds))
        if not renewed and self._reason is None:
            self._reason = "lease lost: another worker or the reaper took this step over"

    def halt(self) -> None:
        """Stop the thread after a final log flush."""
        self._stop_event.set()
        self.join(timeout=10)
