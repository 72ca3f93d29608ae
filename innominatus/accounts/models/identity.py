"""Links a Django user to the subject an OIDC provider knows it by."""

from django.conf import settings
from django.db import models


class ExternalIdentity(models.Model):
    """The (issuer, subject) of an OIDC account: users are found by `sub`, never by a guessable name."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identities")
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    claims = models.JSONField(default=dict, blank=True, help_text="Claims from the last sign-in.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "user_identities"
        verbose_name_plural = "external identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="unique_identity_per_issuer"),
        ]

    def __str__(self) -> str:
        return f"{self.subject}@{self.issuer}"
