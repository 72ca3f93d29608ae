"""Ephemeral environments: created by a golden path with a time to live that a periodic job enforces."""

from django.db import models
from django.utils import timezone


class EphemeralEnvironment(models.Model):
    """A temporary environment of an application; torn down when it expires."""

    class State(models.TextChoices):
        ACTIVE = "active"
        EXPIRING = "expiring"
        EXPIRED = "expired"

    name = models.CharField(max_length=253)
    app_name = models.CharField(max_length=253)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    golden_path = models.CharField(max_length=200)
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    created_by_execution = models.ForeignKey(
        "workflows.WorkflowExecution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    teardown_execution = models.ForeignKey(
        "workflows.WorkflowExecution", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "ephemeral_environments"
        ordering = ["expires_at"]
        indexes = [models.Index(fields=["state", "expires_at"], name="ephemeral_state_expiry")]

    def __str__(self) -> str:
        return f"{self.app_name}/{self.name}"
