"""Resource instances declared by Score specs, and the record of every state change."""

from django.db import models
from django.utils import timezone

from workflows.choices import (
    RESOURCE_LIVE_STATES,
    RESOURCE_TRANSITIONS,
    ResourceKind,
    ResourceScope,
    ResourceState,
    check_transition,
)
from workflows.redaction import redact_for_app

# display_state of a resource whose provider only rendered it (render-only mode).
RENDERED = "rendered"


class ResourceInstance(models.Model):
    """A resource an application declared (database, cache, route …) and its provisioning state."""

    application = models.ForeignKey(
        "workflows.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    app_name = models.CharField(max_length=253)
    resource_name = models.CharField(max_length=253, help_text="The key under `resources:` in the spec.")
    resource_type = models.CharField(max_length=100)
    resource_class = models.CharField(max_length=100, blank=True, default="")
    resource_id = models.CharField(max_length=253, blank=True, default="", help_text="Shared-resource id.")
    scope = models.CharField(max_length=16, choices=ResourceScope.choices, default=ResourceScope.APPLICATION)
    # The team whose applications may bind it; empty only for platform-shared resources.
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="resources"
    )
    state = models.CharField(max_length=16, choices=ResourceState.choices, default=ResourceState.REQUESTED)
    kind = models.CharField(max_length=16, choices=ResourceKind.choices, default=ResourceKind.NATIVE)
    provider = models.CharField(max_length=200, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True, help_text="Non-secret outputs.")
    secret_outputs = models.TextField(blank=True, default="", help_text="Encrypted secret outputs.")
    hints = models.JSONField(default=dict, blank=True)
    reference_url = models.URLField(max_length=1000, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "resource_instances"
        ordering = ["app_name", "resource_name"]
        indexes = [
            # The list's keyset order (app_name, resource_name, id): a page is one range of this index.
            models.Index(fields=["app_name", "resource_name", "id"], name="resource_app_name_id"),
            models.Index(fields=["resource_type", "state"], name="resource_type_state"),
            models.Index(fields=["state"], name="resource_state"),
        ]
        # One live instance per shared identity: per team, and once for the platform.
        constraints = [
            models.UniqueConstraint(
                fields=["team", "resource_type", "resource_class", "resource_id"],
                condition=models.Q(scope=ResourceScope.TEAM)
                & ~models.Q(state__in=[ResourceState.TERMINATED, ResourceState.TERMINATING]),
                name="unique_live_team_resource",
            ),
            models.UniqueConstraint(
                fields=["resource_type", "resource_class", "resource_id"],
                condition=models.Q(scope=ResourceScope.PLATFORM)
                & ~models.Q(state__in=[ResourceState.TERMINATED, ResourceState.TERMINATING]),
                name="unique_live_platform_resource",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.app_name}/{self.resource_name}"

    @property
    def applied(self) -> bool | None:
        """Whether its provider really applied it: False when it was only rendered (no cluster
        configured), None while it never ran (or someone outside provisions it)."""
        value = (self.metadata or {}).get("applied")
        return None if value is None else bool(value)

    @property
    def display_state(self) -> str:
        """The state as people should read it: `rendered` instead of a lifecycle state that claims a
        live resource (active, updating, degraded) when nothing was applied."""
        if (
            self.state in RESOURCE_LIVE_STATES
            and self.state != ResourceState.PROVISIONING
            and self.applied is False
        ):
            return RENDERED
        return str(self.state)

    @property
    def state_label(self) -> str:
        """display_state in words, e.g. "rendered, not applied"."""
        if self.display_state == RENDERED:
            return "rendered, not applied"
        return str(ResourceState(self.state).label).lower()

    def transition(self, target: str, *, reason: str = "", actor: str = "", execution_id: str = "") -> bool:
        """Change state if the table allows it, recording the change; returns whether it moved."""
        current = self.state
        check_transition(RESOURCE_TRANSITIONS, "resource", current, target)
        now = timezone.now()
        reason = redact_for_app(reason, app_name=self.app_name)
        changes: dict[str, object] = {"state": target, "updated_at": now}
        if target != ResourceState.FAILED:
            changes["error_message"] = ""
        elif reason:
            changes["error_message"] = reason
        moved = type(self).objects.filter(pk=self.pk, state=current).update(**changes)
        if not moved:
            self.refresh_from_db()
            return False
        for name, value in changes.items():
            setattr(self, name, value)
        ResourceStateTransition.objects.create(
            resource=self,
            from_state=current,
            to_state=target,
            reason=reason[:2000],
            actor=actor,
            execution_id=execution_id,
        )
        return True


class ResourceStateTransition(models.Model):
    """One recorded state change of a resource: who, why, when."""

    resource = models.ForeignKey(ResourceInstance, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=16, choices=ResourceState.choices, blank=True, default="")
    to_state = models.CharField(max_length=16, choices=ResourceState.choices)
    reason = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=200, blank=True, default="")
    execution_id = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "resource_state_transitions"
        ordering = ["resource", "created_at", "id"]
        indexes = [models.Index(fields=["resource", "created_at"], name="transition_resource_time")]

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.from_state} -> {self.to_state}"
