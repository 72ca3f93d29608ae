"""Workflow executions: one run of a workflow definition, snapshotted when it starts."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from workflows.choices import (
    EXECUTION_TERMINAL_STATUSES,
    EXECUTION_TRANSITIONS,
    ExecutionStatus,
    check_transition,
)
from workflows.redaction import redact_for_app


def new_execution_id() -> str:
    """A short, URL-safe id of the form wf-<12 hex>, the same in logs, API, UI and database."""
    return f"wf-{secrets.token_hex(6)}"


class WorkflowExecution(models.Model):
    """One run of a workflow; the definition it runs is a snapshot, not a reference."""

    id = models.CharField(primary_key=True, max_length=32, default=new_execution_id, editable=False)
    application = models.ForeignKey(
        "workflows.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="executions"
    )
    # Kept as text so history survives the application's deletion (operators query it directly).
    # app_name, team and workflow_name are searched through the (…, created_at) indexes in Meta, which
    # serve lookups on the leading column alone too: a second index would only cost writes.
    app_name = models.CharField(max_length=253)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    workflow_name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.PENDING)
    definition = models.JSONField(help_text="Snapshot of the workflow definition this run executes.")
    parameters = models.JSONField(default=dict, blank=True)
    variables = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True, default="")
    revision = models.ForeignKey(
        "workflows.DeploymentRevision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="executions",
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        help_text="The execution this one retries.",
    )
    trigger = models.CharField(
        max_length=255, default="api", help_text="What started it: api, spec, golden-path, …"
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True, help_text="Workflow-level timeout.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "workflow_executions"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-started_at"], name="wfexec_status_started"),
            models.Index(fields=["-created_at"], name="wfexec_created"),
            models.Index(fields=["app_name", "-created_at"], name="wfexec_app_created"),
            models.Index(fields=["workflow_name", "-created_at"], name="wfexec_name_created"),
            models.Index(fields=["team", "-created_at"], name="wfexec_team_created"),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def is_terminal(self) -> bool:
        return self.status in EXECUTION_TERMINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.completed_at or timezone.now()
        return (end - self.started_at).total_seconds()

    def transition(self, target: str, *, error: str = "") -> bool:
        """Move to `target` if the table allows it and nobody moved it first; returns whether it moved."""
        check_transition(EXECUTION_TRANSITIONS, "execution", self.status, target)
        now = timezone.now()
        fields: dict[str, object] = {"status": target, "updated_at": now}
        if target == ExecutionStatus.RUNNING and self.started_at is None:
            fields["started_at"] = now
        if target in EXECUTION_TERMINAL_STATUSES:
            fields["completed_at"] = now
            if self.started_at is None:
                fields["started_at"] = now
        if error:
            fields["error_message"] = redact_for_app(error, app_name=self.app_name)
        moved = type(self).objects.filter(pk=self.pk, status=self.status).update(**fields)
        if moved:
            for name, value in fields.items():
                setattr(self, name, value)
        else:
            self.refresh_from_db()
        return bool(moved)

    def start(self) -> bool:
        return self.transition(ExecutionStatus.RUNNING)

    def finish(self, status: str, error: str = "") -> bool:
        return self.transition(status, error=error)

    def cancel(self, reason: str) -> bool:
        return self.transition(ExecutionStatus.CANCELLED, error=reason)
