"""What a deploy produced: which workloads use which resources, and the manifests it applied or rendered."""

from django.db import models
from django.utils import timezone


class ResourceBinding(models.Model):
    """One workload's use of a resource under its own name; a shared resource has one binding per user."""

    resource = models.ForeignKey(
        "workflows.ResourceInstance", on_delete=models.CASCADE, related_name="bindings"
    )
    application = models.ForeignKey(
        "workflows.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="bindings"
    )
    app_name = models.CharField(max_length=253)
    resource_name = models.CharField(
        max_length=253, help_text="The key under `resources:` in that workload's spec."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "resource_bindings"
        ordering = ["app_name", "resource_name"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "app_name", "resource_name"], name="unique_binding"),
        ]
        indexes = [models.Index(fields=["application", "resource_name"], name="binding_app_name")]

    def __str__(self) -> str:
        return f"{self.app_name}/{self.resource_name} -> {self.resource_id}"


class ManifestSet(models.Model):
    """The Kubernetes objects one deploy applied (or only rendered); Secret values are masked here."""

    application = models.ForeignKey(
        "workflows.Application",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="manifest_sets",
    )
    app_name = models.CharField(max_length=253, db_index=True)
    revision = models.ForeignKey(
        "workflows.DeploymentRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision_number = models.PositiveIntegerField(null=True, blank=True)
    execution_id = models.CharField(max_length=32, blank=True, default="")
    operation = models.CharField(max_length=16, default="apply", help_text="apply or delete.")
    namespace = models.CharField(max_length=253, blank=True, default="")
    manifests = models.JSONField(default=list, blank=True)
    applied = models.BooleanField(default=False, help_text="False when only rendered (no cluster) or failed.")
    reason = models.TextField(blank=True, default="", help_text="Why nothing was applied, when it was not.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "manifest_sets"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["app_name", "-created_at"], name="manifests_app_created")]

    def __str__(self) -> str:
        return f"{self.app_name}@{self.revision_number or '-'} ({self.operation})"


class ProviderGeneration(models.Model):
    """A counter bumped by every provider reload, so every process reloads its registry when it moves."""

    generation = models.PositiveBigIntegerField(default=0)
    reloaded_by = models.CharField(max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "provider_generations"

    def __str__(self) -> str:
        return f"providers generation {self.generation}"
