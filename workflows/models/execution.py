"""Workflow executions: one run of a workflow definition, snapshotted when it starts."""

import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from workflows.choices import (
    EXECUTION_TERMINAL_STATUSES,
    EXECUTION_TRANSITIONS,
    DeployState,
    ExecutionOutcome,
    ExecutionStatus,
    check_transition,
)
from workflows.redaction import redact_for_app


def new_execution_id() -> str:
    """A short, URL-safe id of the form wf-<12 hex>, the same in logs, API, UI and database."""
    return f"wf-{secrets.token_hex(6)}"


def applied_flags(steps: models.QuerySet[Any]) -> set[bool]:
    """The `applied` outputs of the given steps (cluster-touching steps report it: false when they only
    rendered). Read as values, not compared in SQL: SQLite stores JSON booleans as 0/1."""
    found = steps.filter(outputs__has_key="applied").values_list("outputs__applied", flat=True)
    return {value in (True, 1, "true") for value in found}


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
    # What the run achieved (applied, rendered only, …); kept in step with status by transition().
    # The database default serves rows written in SQL (bulk loads, restores of older dumps).
    outcome = models.CharField(
        max_length=24,
        choices=ExecutionOutcome.choices,
        default=ExecutionOutcome.IN_PROGRESS,
        db_default=ExecutionOutcome.IN_PROGRESS,
    )
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

    @property
    def outcome_label(self) -> str:
        """The outcome in words, e.g. "rendered only, nothing applied"."""
        return str(ExecutionOutcome(self.outcome).label)

    def outcome_for(self, status: str, steps: Iterable[Any] | None = None) -> str:
        """The outcome of this run once it has `status`: a completed run is `rendered_only` when any
        step only rendered what it would apply, `applied` when a step changed the cluster, else
        `completed`. `steps`: the scheduler's rows in memory (the last result is stored after it
        decides), else they are read."""
        if status == ExecutionStatus.COMPLETED:
            if steps is not None:
                flags = {
                    step.outputs["applied"] in (True, 1, "true")
                    for step in steps
                    if isinstance(step.outputs, dict) and "applied" in step.outputs
                }
            else:
                flags = applied_flags(self.steps.all()) if self.pk else set()
            if False in flags:
                return ExecutionOutcome.RENDERED_ONLY
            return ExecutionOutcome.APPLIED if True in flags else ExecutionOutcome.COMPLETED
        others: dict[str, str] = {
            ExecutionStatus.FAILED: ExecutionOutcome.FAILED,
            ExecutionStatus.CANCELLED: ExecutionOutcome.CANCELLED,
            ExecutionStatus.WAITING: ExecutionOutcome.WAITING_FOR_APPROVAL,
        }
        return others.get(status, ExecutionOutcome.IN_PROGRESS)

    def transition(self, target: str, *, error: str = "", steps: Iterable[Any] | None = None) -> bool:
        """Move to `target` if the table allows it and nobody moved it first; returns whether it moved.
        `steps`: the steps as the caller holds them, for the outcome (see outcome_for)."""
        check_transition(EXECUTION_TRANSITIONS, "execution", self.status, target)
        now = timezone.now()
        fields: dict[str, object] = {
            "status": target,
            "outcome": self.outcome_for(target, steps),
            "updated_at": now,
        }
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
            self._follow_approval(target)
        else:
            self.refresh_from_db()
        return bool(moved)

    def _follow_approval(self, target: str) -> None:
        """A deploy that stops at an approval gate leaves its application "waiting for approval" (and
        "deploying" again once it goes on); other outcomes are recorded by the deploy step and the
        execution_finished receiver."""
        if self.application_id is None or target not in (ExecutionStatus.WAITING, ExecutionStatus.RUNNING):
            return
        from workflows.models.application import Application

        if target == ExecutionStatus.WAITING:
            Application.set_deploy_state(
                self.application_id,
                DeployState.WAITING_FOR_APPROVAL,
                f"{self.workflow_name} {self.pk} waits for approval",
                only_from=(DeployState.DEPLOYING,),
            )
        else:
            Application.set_deploy_state(
                self.application_id,
                DeployState.DEPLOYING,
                f"{self.workflow_name} {self.pk} approved, deploying",
                only_from=(DeployState.WAITING_FOR_APPROVAL,),
            )

    def start(self) -> bool:
        return self.transition(ExecutionStatus.RUNNING)

    def finish(self, status: str, error: str = "", *, steps: Iterable[Any] | None = None) -> bool:
        return self.transition(status, error=error, steps=steps)

    def cancel(self, reason: str) -> bool:
        return self.transition(ExecutionStatus.CANCELLED, error=reason)
