"""Build StepContext objects for step tests: a recording log and a stop switch other threads can flip."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.steps.base import StepContext


@dataclass
class LogRecorder:
    """Collects (monotonic time, stream, message) for every line a step logs."""

    entries: list[tuple[float, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, message: str, stream: str = "stdout") -> None:
        with self.lock:
            self.entries.append((time.monotonic(), stream, message))

    def lines(self, stream: str | None = None) -> list[str]:
        with self.lock:
            return [message for _, s, message in self.entries if stream is None or s == stream]

    def text(self) -> str:
        return "\n".join(self.lines())

    def first_time(self, message: str) -> float:
        with self.lock:
            return next(t for t, _, m in self.entries if m == message)


@dataclass
class StopSwitch:
    """check_stop callback: returns the reason once `stop()` was called (from any thread)."""

    reason: str | None = None
    calls: int = 0

    def __call__(self) -> str | None:
        self.calls += 1
        return self.reason

    def stop(self, reason: str = "cancelled by test") -> None:
        self.reason = reason

    def stop_after(self, seconds: float, reason: str = "cancelled by test") -> threading.Timer:
        timer = threading.Timer(seconds, self.stop, args=(reason,))
        timer.daemon = True
        timer.start()
        return timer


def make_ctx(
    workdir: Path,
    config: Mapping[str, Any] | None = None,
    *,
    step_type: str = "script",
    step_name: str = "step-1",
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stop: StopSwitch | None = None,
    log: LogRecorder | None = None,
) -> StepContext:
    """A StepContext for `workdir` with a LogRecorder as ctx.log and a StopSwitch as ctx.check_stop."""
    return StepContext(
        execution_id="wf-test1234",
        app_name="demo",
        step_name=step_name,
        step_type=step_type,
        config=dict(config or {}),
        env=dict(env or {}),
        workdir=workdir,
        timeout=timeout,
        log=log if log is not None else LogRecorder(),
        check_stop=stop if stop is not None else StopSwitch(),
    )


def recorder(ctx: StepContext) -> LogRecorder:
    """The LogRecorder behind a context built by make_ctx."""
    assert isinstance(ctx.log, LogRecorder)
    return ctx.log


def pid_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (PID 1 in a container may never reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] not in ("Z", "X")


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    """Poll predicate() until it is true or timeout seconds passed; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())
