"""The event stream's table: one row per state change of an execution, step, resource or application.

Rows are written by database triggers (migration `events_table_and_triggers`), inside the statement
that changes the state, so every writer — model transitions, bulk updates of the reaper and the
cancel path, and the prebuilt statements of the step hot path — reports in the same transaction
without knowing about events, and without a round trip more. See workflows/events/ for the readers.
"""

from django.db import models
from django.utils import timezone


class Event(models.Model):
    """One state change, as sent on `GET /api/events/stream`; the id is the stream's cursor."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now)
    type = models.CharField(max_length=40)
    # The owning team's name, as the API scopes by ("" only for objects of no team: admins see those).
    team = models.CharField(max_length=100, blank=True, default="")
    application = models.CharField(max_length=253, blank=True, default="")
    execution = models.CharField(max_length=32, blank=True, default="")
    step = models.CharField(max_length=200, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "workflow_events"
        ordering = ["id"]
        # No index beyond the primary key: readers scan forward from a recent id (a bounded backlog),
        # and every index would cost each step of every workflow a write more.

    def __str__(self) -> str:
        return f"{self.id} {self.type}"
