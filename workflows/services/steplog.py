"""Buffered, redacting writer of step log lines; flushed while the step runs, not at its end."""

import logging
import threading
from collections.abc import Iterable

from django.db.models import Max
from django.utils import timezone

from innominatus.logcontext import current as current_log_context
from workflows.choices import LogStream
from workflows.models import StepLog
from workflows.redaction import MIN_SECRET_CHARS, redact
from workflows.services import steprows

MAX_LINE_CHARS = 16_384
# Every stored line also goes to the process' log (stdout, JSON), so `kubectl logs … | grep
# workflow_id=wf-…` finds a workflow's steps without the database.
logger = logging.getLogger("workflows.steps")
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class StepLogWriter:
    """Collects lines from any thread; `flush()` stores them in order with per-step sequence numbers."""

    def __init__(
        self,
        *,
        execution_id: str,
        step_id: int | None,
        secrets: Iterable[str] = (),
        first_seq: int | None = None,
    ) -> None:
        self.execution_id = execution_id
        self.step_id = step_id
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True)
        self._pending: list[StepLog] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        # A first attempt has no earlier lines, so numbering can start without asking the database.
        self._next_seq: int | None = first_seq
        # Lines may be written from other threads (a step's output readers): they carry the context
        # (workflow, application, step) bound where the writer was made.
        self._log_context = {**current_log_context(), "workflow_id": execution_id}
        # Lines handed out by drain() whose statement may still fail (see undrain).
        self._drained: list[StepLog] = []

    def write(self, message: str, stream: str = LogStream.STDOUT, level: str = "info") -> None:
        """Queue one line (several lines are split); safe to call from any thread."""
        now = timezone.now()
        stream = stream if stream in LogStream.values else LogStream.STDOUT
        for line in str(message).splitlines() or [""]:
            text = redact(line, self.secrets)[:MAX_LINE_CHARS]
            entry = StepLog(
                execution_id=self.execution_id,
                step_id=self.step_id,
                seq=0,
                stream=stream,
                level=level,
                message=text,
                created_at=now,
            )
            with self._lock:
                self._pending.append(entry)
            logger.log(LEVELS.get(level, logging.INFO), text, extra={**self._log_context, "stream": stream})

    __call__ = write

    def system(self, message: str, level: str = "info") -> None:
        """A line written by the engine itself (not by the step's process)."""
        self.write(message, LogStream.SYSTEM, level)

    def drain(self) -> list[StepLog]:
        """Take the queued lines, numbered, for the caller to store in its own statement."""
        with self._flush_lock:
            batch = self._numbered()
            self._drained.extend(batch)
            return batch

    def undrain(self) -> None:
        """Queue again, with their numbers, the lines drained since the last undrain: the statement that
        was to store them failed."""
        with self._flush_lock:
            self._requeue(self._drained)
            self._drained = []

    def flush(self) -> int:
        """Store queued lines; returns how many were written. Lines a failed insert did not store stay
        queued for the next flush."""
        with self._flush_lock:
            batch = self._numbered()
            try:
                steprows.insert_logs(batch)
            except Exception:
                self._requeue(batch)
                raise
            return len(batch)

    def _requeue(self, batch: list[StepLog]) -> None:
        if not batch:
            return
        with self._lock:
            self._pending = batch + self._pending
            self._next_seq = batch[0].seq

    def _numbered(self) -> list[StepLog]:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return batch
        if self._next_seq is None:
            last = StepLog.objects.filter(execution_id=self.execution_id, step_id=self.step_id).aggregate(
                last=Max("seq")
            )["last"]
            self._next_seq = (last or 0) + 1
        for seq, entry in enumerate(batch, start=self._next_seq):
            entry.seq = seq
        self._next_seq += len(batch)
        return batch
