"""Status vocabularies, their groups, and the allowed-transition tables."""

from django.db import models


class ExecutionStatus(models.TextChoices):
    """Lifecycle of a workflow execution (compatible with the original's API)."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(models.TextChoices):
    """Lifecycle of one step inside an execution."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class ResourceState(models.TextChoices):
    """Lifecycle of a provisioned resource."""

    REQUESTED = "requested"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    UPDATING = "updating"
    DEGRADED = "degraded"
    TERMINATING = "terminating"
    TERMINATED = "terminated"
    FAILED = "failed"


class DeployState(models.TextChoices):
    """What an application's last deploy or undeploy achieved (Application.deploy_state). Only
    Application.set_deploy_state writes it; the labels are what people read (API, admin, portal)."""

    NONE = "", "not deployed yet"
    DEPLOYING = "deploying", "deploying"
    WAITING_FOR_APPROVAL = "waiting_for_approval", "waiting for approval"
    DEPLOYED = "deployed", "deployed (applied to the cluster)"
    RENDERED = "rendered", "rendered, not applied"
    FAILED = "failed", "failed"
    UNDEPLOYING = "undeploying", "undeploying"
    UNDEPLOYED = "undeployed", "undeployed"


class ExecutionOutcome(models.TextChoices):
    """What a run achieved, beyond its status: a completed run either changed the cluster (applied),
    only rendered what it would have applied (no cluster configured), or touched no cluster at all."""

    IN_PROGRESS = "in_progress", "in progress"
    WAITING_FOR_APPROVAL = "waiting_for_approval", "waiting for approval"
    APPLIED = "applied", "applied"
    RENDERED_ONLY = "rendered_only", "rendered only, nothing applied"
    COMPLETED = "completed", "completed (no cluster changes)"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class ResourceKind(models.TextChoices):
    """Who provisions a resource: innominatus itself, a delegate (e.g. GitOps), or someone outside."""

    NATIVE = "native"
    DELEGATED = "delegated"
    EXTERNAL = "external"


class ResourceScope(models.TextChoices):
    """Who may bind a resource: one application (no id), its team (an id), or every team (platform-shared)."""

    APPLICATION = "application"
    TEAM = "team"
    PLATFORM = "platform"


class LogStream(models.TextChoices):
    """Where a step log line came from."""

    STDOUT = "stdout"
    STDERR = "stderr"
    SYSTEM = "system"


# Groups live at module level: an assignment inside an Enum body would silently become a member.
EXECUTION_TERMINAL_STATUSES = frozenset(
    {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
)
EXECUTION_ACTIVE_STATUSES = frozenset(
    {ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.WAITING}
)
STEP_TERMINAL_STATUSES = frozenset(
    {StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.SKIPPED, StepStatus.CANCELLED}
)
STEP_ACTIVE_STATUSES = frozenset({StepStatus.PENDING, StepStatus.RUNNING, StepStatus.WAITING})
RESOURCE_LIVE_STATES = frozenset(
    {ResourceState.ACTIVE, ResourceState.UPDATING, ResourceState.DEGRADED, ResourceState.PROVISIONING}
)

EXECUTION_TRANSITIONS: dict[str, frozenset[str]] = {
    ExecutionStatus.PENDING: frozenset(
        {ExecutionStatus.RUNNING, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
    ),
    ExecutionStatus.RUNNING: frozenset(
        {
            ExecutionStatus.WAITING,
            ExecutionStatus.COMPLETED,
            ExecutionStatus.FAILED,
            ExecutionStatus.CANCELLED,
        }
    ),
    ExecutionStatus.WAITING: frozenset(
        {ExecutionStatus.RUNNING, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
    ),
    ExecutionStatus.COMPLETED: frozenset(),
    ExecutionStatus.FAILED: frozenset(),
    ExecutionStatus.CANCELLED: frozenset(),
}

STEP_TRANSITIONS: dict[str, frozenset[str]] = {
    StepStatus.PENDING: frozenset(
        {StepStatus.RUNNING, StepStatus.WAITING, StepStatus.SKIPPED, StepStatus.CANCELLED, StepStatus.FAILED}
    ),
    # running -> pending is a retry after a failed attempt or an expired lease.
    StepStatus.RUNNING: frozenset(
        {StepStatus.COMPLETED, StepStatus.FAILED, StepStatus.CANCELLED, StepStatus.PENDING}
    ),
    # waiting is the approval gate: approval sends it on to run (or completes a pure gate), rejection fails it.
    StepStatus.WAITING: frozenset(
        {
            StepStatus.PENDING,
            StepStatus.COMPLETED,
            StepStatus.FAILED,
            StepStatus.SKIPPED,
            StepStatus.CANCELLED,
        }
    ),
    StepStatus.COMPLETED: frozenset(),
    StepStatus.FAILED: frozenset(),
    StepStatus.SKIPPED: frozenset(),
    StepStatus.CANCELLED: frozenset(),
}

RESOURCE_TRANSITIONS: dict[str, frozenset[str]] = {
    ResourceState.REQUESTED: frozenset(
        {
            ResourceState.PROVISIONING,
            ResourceState.FAILED,
            ResourceState.TERMINATING,
            ResourceState.TERMINATED,
        }
    ),
    ResourceState.PROVISIONING: frozenset(
        {ResourceState.ACTIVE, ResourceState.FAILED, ResourceState.DEGRADED}
    ),
    ResourceState.ACTIVE: frozenset(
        {ResourceState.UPDATING, ResourceState.DEGRADED, ResourceState.TERMINATING}
    ),
    ResourceState.UPDATING: frozenset({ResourceState.ACTIVE, ResourceState.DEGRADED, ResourceState.FAILED}),
    ResourceState.DEGRADED: frozenset(
        {ResourceState.ACTIVE, ResourceState.UPDATING, ResourceState.TERMINATING, ResourceState.FAILED}
    ),
    ResourceState.TERMINATING: frozenset({ResourceState.TERMINATED, ResourceState.FAILED}),
    # A failed resource can be retried, updated in place, or torn down.
    ResourceState.FAILED: frozenset(
        {
            ResourceState.PROVISIONING,
            ResourceState.UPDATING,
            ResourceState.TERMINATING,
            ResourceState.TERMINATED,
        }
    ),
    ResourceState.TERMINATED: frozenset(),
}


class InvalidTransition(Exception):
    """Raised when a status change is not in the allowed-transition table."""

    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(f"{kind} cannot move from {current!r} to {target!r}")
        self.kind = kind
        self.current = current
        self.target = target


def check_transition(table: dict[str, frozenset[str]], kind: str, current: str, target: str) -> None:
    """Raise InvalidTransition unless `current -> target` is allowed by `table`."""
    if target not in table.get(current, frozenset()):
        raise InvalidTransition(kind, current, target)
