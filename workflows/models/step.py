"""Step executions and their append-only log lines."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from workflows.choices import (
    STEP_TERMINAL_STATUSES,
    STEP_TRANSITIONS,
    LogStream,
    StepStatus,
    check_transition,
)
from workflows.models.execution import WorkflowExecution
from workflows.redaction import redact_for_app


class StepExecution(models.Model):
    """One step of an execution; claimed by a worker under a heartbeated lease while it runs."""

    # Looked up through unique_step_name (execution, name): every status change of a step rewrites each
    # of its indexes, so none is kept twice.
    execution = models.ForeignKey(
        "workflows.WorkflowExecution", on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    name = models.CharField(max_length=200)
    step_type = models.CharField(max_length=64)
    position = models.PositiveIntegerField(help_text="Order in the workflow file.")
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    depends_on = models.JSONField(default=list, blank=True, help_text="Effective dependencies (step names).")
    config = models.JSONField(
        default=dict, blank=True, help_text="Rendered configuration of the last attempt."
    )
    outputs = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True, default="")
    skip_reason = models.CharField(max_length=500, blank=True, default="")
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=1)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Earliest start of a retry.")
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="When a run message was last sent.")
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Approval gate (when: manual / type: approval).
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # indexed in Meta where set: most steps are never decided by a person
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "workflow_step_executions"
        ordering = ["execution_id", "position"]
        constraints = [models.UniqueConstraint(fields=["execution", "name"], name="unique_step_name")]
        # A step's row is rewritten three or four times in its life, each time in every index whose
        # condition the new version meets: the status index holds only steps still in progress (what the
        # reaper, the stall check and the dashboards look for), so finished steps cost it nothing.
        indexes = [
            models.Index(
                fields=["status", "lease_expires_at"],
                name="step_active_status_lease",
                condition=models.Q(status__in=[StepStatus.PENDING, StepStatus.RUNNING, StepStatus.WAITING]),
            ),
            models.Index(
                fields=["decided_by"], name="step_decided_by", condition=models.Q(decided_by__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.execution_id}/{self.name}"

    @property
    def is_terminal(self) -> bool:
        return self.status in STEP_TERMINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.completed_at or timezone.now()
        return (end - self.started_at).total_seconds()

    def transition(self, target: str, *, expected: str | None = None, **fields: object) -> bool:
        """Move to `target` if allowed and still in `expected` (default: the status we read)."""
        current = expected or self.status
        check_transition(STEP_TRANSITIONS, "step", current, target)
        now = timezone.now()
        changes: dict[str, object] = {"status": target, **fields}
        for name in ("error_message", "skip_reason"):
            if changes.get(name):
                changes[name] = redact_for_app(str(changes[name]), app_name=self._app_name())
        if target == StepStatus.RUNNING:
            changes.setdefault("started_at", now)
        if target in STEP_TERMINAL_STATUSES:
            changes.setdefault("completed_at", now)
            changes.setdefault("lease_owner", "")
            changes.setdefault("lease_expires_at", None)
        moved = type(self).objects.filter(pk=self.pk, status=current).update(**changes)
        if moved:
            for name, value in changes.items():
                setattr(self, name, value)
        else:
            self.refresh_from_db()
        return bool(moved)

    def _app_name(self) -> str:
        cached = StepExecution.execution.field.get_cached_value(self, None)
        if isinstance(cached, WorkflowExecution):
            return cached.app_name
        found = (
            WorkflowExecution.objects.filter(pk=self.execution_id).values_list("app_name", flat=True).first()
        )
        return found or ""


class StepLog(models.Model):
    """One log line of a step; append-only and sequence-numbered so a live tail is one indexed query."""

    id = models.BigAutoField(primary_key=True)
    # Both looked up through the composite indexes in Meta: each index costs every line written.
    execution = models.ForeignKey(
        "workflows.WorkflowExecution", on_delete=models.CASCADE, related_name="logs", db_index=False
    )
    step = models.ForeignKey(
        StepExecution, null=True, blank=True, on_delete=models.CASCADE, related_name="logs", db_index=False
    )
    seq = models.PositiveIntegerField(
        help_text="Line number within the step (or execution for engine lines)."
    )
    stream = models.CharField(max_length=8, choices=LogStream.choices, default=LogStream.STDOUT)
    level = models.CharField(max_length=10, default="info")
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "workflow_step_logs"
        ordering = ["id"]
        indexes = [
            models.Index(fields=["execution", "id"], name="steplog_exec_id"),
            models.Index(fields=["step", "seq"], name="steplog_step_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.execution_id}#{self.seq}"
