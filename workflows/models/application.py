"""Applications and their immutable deployment revisions."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from workflows.choices import DeployState


class Application(models.Model):
    """A workload owned by a team, deployed from a Score spec."""

    name = models.SlugField(max_length=253, unique=True)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="applications")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_revision = models.ForeignKey(
        "workflows.DeploymentRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the last deploy achieved; written only through set_deploy_state.
    deploy_state = models.CharField(max_length=64, blank=True, default="", choices=DeployState.choices)
    deploy_message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "applications"
        ordering = ["name"]
        indexes = [models.Index(fields=["team", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def deploy_state_label(self) -> str:
        """The deploy state in words ("rendered, not applied", "deployed (applied to the cluster)", …)."""
        return str(DeployState(self.deploy_state).label)

    @property
    def is_applied(self) -> bool:
        """Whether the last deploy really reached the cluster (render-only deploys did not)."""
        return self.deploy_state == DeployState.DEPLOYED

    @classmethod
    def set_deploy_state(
        cls, pk: int, state: str, message: str = "", *, only_from: tuple[str, ...] | None = None
    ) -> int:
        """Record what a deploy achieved (the one place that writes deploy_state); `only_from` limits
        the change to applications in one of those states. Returns the number of rows changed."""
        state = DeployState(state).value  # refuses anything outside the vocabulary
        rows = cls.objects.filter(pk=pk)
        if only_from is not None:
            rows = rows.filter(deploy_state__in=[DeployState(value).value for value in only_from])
        return rows.update(deploy_state=state, deploy_message=message, updated_at=timezone.now())


class DeploymentRevision(models.Model):
    """One accepted Score submission: canonical spec, content hash, who and when. Never changed."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    spec = models.JSONField(help_text="Canonical Score workload, without extension keys.")
    extensions = models.JSONField(
        default=dict, blank=True, help_text="The original's `workflows`/`environment`."
    )
    source = models.TextField(blank=True, default="", help_text="The document as submitted.")
    content_hash = models.CharField(max_length=64)
    comment = models.CharField(max_length=500, blank=True, default="")
    rolled_back_from = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "deployment_revisions"
        ordering = ["application", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="unique_revision_number"),
        ]
        indexes = [models.Index(fields=["application", "content_hash"])]

    def __str__(self) -> str:
        # Readable in the admin and in logs: "shop revision 3", not "7#3".
        return f"{self.application.name} revision {self.number}"
