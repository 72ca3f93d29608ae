"""The one small interface every step type implements: run(ctx) -> StepResult."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from workflows.redaction import redact
from workflows.runtime.ownership import Owner

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


def redacting_log(log: Callable[..., None], secrets: Sequence[str]) -> Callable[..., None]:
    """A log function that replaces each secret value (4+ characters) before the line is written."""
    values = list(secrets)

    def write(message: Any, *args: Any, **kwargs: Any) -> None:
        log(redact(str(message), values), *args, **kwargs)

    return write


def _never_stop() -> str | None:
    return None


def _print_log(message: str, stream: str = "stdout") -> None:
    print(f"[{stream}] {message}")  # noqa: T201 - only the default for contexts built outside a worker


@dataclass
class ProvisionJob:
    """What a `provision` step runs for one resource: the provider workflow and its parameters."""

    instance_id: int
    resource: str
    resource_type: str
    provider: str
    operation: str
    # The provider workflow (an engine WorkflowDefinition); None when nothing must run, e.g. when a
    # shared resource that other workloads still use is merely released.
    workflow: Any
    parameters: dict[str, Any] = field(default_factory=dict)
    # Values no log line may show (generated passwords, secret outputs of referenced resources).
    secrets: list[str] = field(default_factory=list)
    message: str = ""
    # native, delegated or external (the last two finish when another system reports back).
    kind: str = "native"


@dataclass(frozen=True)
class PlannedProvision:
    """One resource operation a deploy must run, in dependency order."""

    resource: str
    operation: str
    instance: int


@dataclass
class WorkloadJob:
    """What a `deploy` step renders: the spec, its namespace and the outputs of its resources."""

    app_name: str
    namespace: str
    spec: dict[str, Any]
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    secret_keys: dict[str, frozenset[str]] = field(default_factory=dict)
    revision: int | None = None
    # Identities ({apiVersion, kind, name, namespace}) of what the previous deploy applied.
    previous: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


class ResourceOps(Protocol):
    """Resource and deployment bookkeeping a step may ask for; the runtime implements it over the ORM."""

    def begin_provision(
        self, ctx: StepContext, *, resource: str, operation: str, instance: int | None, regenerate: list[str]
    ) -> ProvisionJob:
        """Move the resource into its working state and describe the workflow to run."""
        ...

    def finish_provision(
        self,
        ctx: StepContext,
        job: ProvisionJob,
        *,
        outputs: dict[str, Any] | None,
        error: str = "",
        render_only: str = "",
    ) -> dict[str, Any]:
        """Store outputs (secrets encrypted) and the final state; returns the outputs with secrets masked."""
        ...

    def await_report(
        self, ctx: StepContext, job: ProvisionJob, *, timeout: float
    ) -> tuple[str, dict[str, Any]]:
        """Wait until a delegated or external resource is reported active or failed (state, outputs)."""
        ...

    def plan_resources(self, ctx: StepContext, *, operation: str) -> list[PlannedProvision]:
        """The provisions that bring the application's resources in line with its current revision
        (operation "apply") or remove all of them ("delete"), in the order to run them."""
        ...

    def workload(self, ctx: StepContext, *, revision: int | None) -> WorkloadJob:
        """The workload of the execution's application (a given revision number, or the current one)."""
        ...

    def record_manifests(
        self,
        ctx: StepContext,
        job: WorkloadJob | None,
        *,
        manifests: list[dict[str, Any]],
        operation: str,
        applied: bool,
        reason: str = "",
        state: str = "",
    ) -> None:
        """Store what was applied or rendered (Secrets masked) and the application's deploy state."""
        ...

    def deployed_objects(
        self, ctx: StepContext, *, manifest_set: int | None
    ) -> tuple[str, list[dict[str, Any]]]:
        """(namespace, identities) of what the application's last deploy applied."""
        ...


@dataclass(frozen=True)
class StepUser:
    """The unprivileged account a step's processes run as (a worker running as root never lends its own)."""

    uid: int
    gid: int
    name: str


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
    # Resource and deployment bookkeeping, supplied by the runtime (None outside an execution).
    resource_ops: ResourceOps | None = None
    # The team and application whose cluster objects the step may create and change (None outside an
    # execution); see workflows/runtime/ownership.py.
    owner: Owner | None = None
    # The step's row id (idempotency keys); None outside an execution.
    step_id: int | None = None
    # Who the step's processes run as; None runs them as the worker's own user.
    run_as: StepUser | None = None

    def idempotency_key(self) -> str:
        """The same for every attempt of this step of this execution, different for any other step."""
        return f"{self.execution_id}/{self.step_id if self.step_id is not None else self.step_name}"

    def attempt_id(self) -> str:
        """Unique to this attempt: the idempotency key and the attempt number."""
        return f"{self.idempotency_key()}/{self.attempt}"

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
    # Steps that read or write the application's resources through `resource_ops`: the only way a
    # step meets secret values, so the runtime reads the current ones before each of them.
    uses_resources: ClassVar[bool] = False

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        """Problems with a step's (unrendered) configuration, found before anything runs."""
        return []

    @abstractmethod
    def run(self, ctx: StepContext) -> StepResult:
        """Do the step's work; return its result, or raise StepStopped when told to stop."""

    def evidence(self, workdir: Path, step_name: str, attempt: int) -> StepResult | None:
        """The result an attempt left in its work directory when its worker died before recording it;
        None when it left none (the attempt is then retried or failed)."""
        return None


def require_keys(config: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    """Problems for required configuration keys that are missing or empty."""
    return [f"config.{key} is required" for key in keys if config.get(key) in (None, "", [], {})]
