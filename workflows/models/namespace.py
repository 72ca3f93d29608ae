"""The namespaces innominatus computed for applications and their environments, each claimed once."""

from django.db import models


class NamespaceClaim(models.Model):
    """One Kubernetes namespace reserved for an application (environment "" is its main one).

    The unique name is the guarantee that two applications or environments never share a namespace:
    a second claim fails in the database, whatever the order of concurrent submissions.
    """

    name = models.CharField(max_length=63, unique=True)
    application = models.ForeignKey(
        "workflows.Application", on_delete=models.CASCADE, related_name="namespace_claims"
    )
    # Kept as text so executions that outlive the application row (undeploy, TTL teardown) find it.
    app_name = models.CharField(max_length=253)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    environment = models.CharField(max_length=63, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "namespace_claims"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["application", "environment"], name="unique_app_environment"),
        ]
        indexes = [models.Index(fields=["app_name", "environment"], name="namespace_app_env")]

    def __str__(self) -> str:
        return self.name
