"""API keys: long random secrets with a recognisable prefix, stored only as a SHA-256 hash."""

import hashlib
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_PREFIX = "inn_"
# Characters of the key kept in clear for display and support ("inn_" plus 8 characters).
DISPLAY_PREFIX_LENGTH = len(KEY_PREFIX) + 8


def hash_key(raw_key: str) -> str:
    """SHA-256 of the full key; keys carry 256 random bits, so a fast hash cannot be brute-forced."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    """Queries over API keys."""

    def usable(self, now: datetime | None = None) -> "ApiKeyQuerySet":
        """Keys that are neither revoked nor expired."""
        moment = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=moment)


class ApiKey(models.Model):
    """A user's named API key, used as `Authorization: Bearer <key>`; the key itself is never stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=DISPLAY_PREFIX_LENGTH, help_text="The first characters, for display."
    )
    key_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the full key.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        db_table = "user_api_keys"
        ordering = ["user", "name"]
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="unique_api_key_name_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.name}"

    @property
    def masked_key(self) -> str:
        """The key as shown in listings: the clear prefix and an ellipsis."""
        return f"{self.prefix}…"

    def is_usable(self, now: datetime | None = None) -> bool:
        """Whether the key may authenticate right now."""
        moment = now or timezone.now()
        return self.revoked_at is None and self.expires_at > moment

    @property
    def status(self) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.expires_at > timezone.now() else "expired"
