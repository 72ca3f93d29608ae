"""The one small interface every step type implements: run(ctx) -> StepResult."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

StepOutcome = Literal["completed", "failed"]


class StepStopped(Exception):
    """Raised inside a step when it must stop now: cancelled, timed out, or its lease was lost."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class StepResult:
    """What a step reports back: its outcome, outputs, and an error message when it failed."""

    status: StepOutcome
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @classmethod
    def ok(cls, **outputs: Any) -> StepResult:
        return cls("completed", dict(outputs))

    @classmethod
    def fail(cls, error: str, **outputs: Any) -> StepResult:
        return cls("failed", dict(outputs), error)


def _never_stop() -> str | None:
    return None


def _print_log(message: str, stream: str = "stdout") -> None:
    print(f"[{stream}] {message}")  # noqa: T201 - only the default for contexts built outside a worker


@dataclass
class StepContext:
    """Everything a step may use. Steps never touch the ORM; the runtime supplies these callbacks."""

    execution_id: str
    app_name: str
    step_name: str
    step_type: str
    config: Mapping[str, Any]
    env: Mapping[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=Path.cwd)
    timeout: float | None = None
    attempt: int = 1
    # Appends one line to the step's log (the runtime redacts secrets and stores it at once).
    log: Callable[..., None] = _print_log
    # Returns a reason when the step must stop (cancelled, timed out, lease lost); renews the lease.
    check_stop: Callable[[], str | None] = _never_stop
    secrets: Sequence[str] = ()
    app: Mapping[str, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)
    started_monotonic: float = field(default_factory=time.monotonic)

    def remaining(self) -> float | None:
        """Seconds left before the step's timeout, or None when it has none."""
        if self.timeout is None:
            return None
        return max(0.0, self.timeout - (time.monotonic() - self.started_monotonic))

    def raise_if_stopped(self) -> None:
        """Raise StepStopped when the step must stop; call this in every wait loop."""
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise StepStopped(f"step timed out after {self.timeout:g}s")
        reason = self.check_stop()
        if reason:
            raise StepStopped(reason)

    def sleep(self, seconds: float, *, tick: float = 0.25) -> None:
        """Sleep in small ticks so cancellation and timeouts take effect promptly."""
        deadline = time.monotonic() + seconds
        while True:
            self.raise_if_stopped()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(tick, left))


class Step(ABC):
    """Base class of step types. Subclasses set `type_name` and implement `run`."""

    type_name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    # Approval-type steps pause in `waiting` until a person decides.
    requires_approval: ClassVar[bool] = False
    # Steps that talk to a cluster run in render-only mode when none is configured.
    touches_cluster: ClassVar[bool] = False

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        """Problems with a step's (unrendered) configuration, found before anything runs."""
        return []

    @abstractmethod
    def run(self, ctx: StepContext) -> StepResult:
        """Do the step's work; return its result, or raise StepStopped when told to stop."""


def require_keys(config: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    """Problems for required configuration keys that are missing or empty."""
    return [f"config.{key} is required" for key in keys if config.get(key) in (None, "", [], {})]
