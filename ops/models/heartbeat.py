"""Heartbeats of django-q2 worker processes, so any web replica can tell whether workers are alive."""

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone


class WorkerHeartbeat(models.Model):
    """The last sign of life of one worker process (host and pid), written every few seconds."""

    worker_id = models.CharField(max_length=255, unique=True, help_text="host:pid of the worker process.")
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    cluster = models.CharField(max_length=100, blank=True, default="")
    version = models.CharField(max_length=50, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    idle_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Since when the process has waited for work; empty while it runs a task.",
    )

    class Meta:
        db_table = "ops_worker_heartbeats"
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.worker_id

    @classmethod
    def beat(
        cls, *, hostname: str, pid: int, cluster: str, version: str, idle_since: datetime | None = None
    ) -> None:
        """Record that this worker is alive now, and forget workers silent for a day."""
        now = timezone.now()
        cls.objects.update_or_create(
            worker_id=f"{hostname}:{pid}",
            defaults={
                "hostname": hostname,
                "pid": pid,
                "cluster": cluster,
                "version": version,
                "last_seen": now,
                "idle_since": idle_since,
            },
            create_defaults={
                "hostname": hostname,
                "pid": pid,
                "cluster": cluster,
                "version": version,
                "started_at": now,
                "last_seen": now,
                "idle_since": idle_since,
            },
        )
        cls.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
