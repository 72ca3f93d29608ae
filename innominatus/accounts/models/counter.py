"""Rate-limit and lock-out counters, shared by every worker and replica through the database."""

from django.db import models


class RateCounter(models.Model):
    """Hits of one key in its current window; changed only by the atomic upsert in accounts.counters."""

    name = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    # Seconds since the epoch: the counters are compared and advanced inside one SQL statement.
    window_ends = models.FloatField(db_index=True)
    last_hit = models.FloatField()

    class Meta:
        db_table = "rate_limit_counters"

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"


class RateHit(models.Model):
    """Request-rate counters (throttles), in a table PostgreSQL does not write to its WAL (UNLOGGED).

    A throttle hit is one upsert here per request: unlogged, it costs no WAL record, waits for no WAL
    flush at commit and is not shipped to replicas. The price: a crash of the database server (not a
    clean restart) empties the table, i.e. every rate window starts again. Lock-out counters, which
    must survive that, stay in RateCounter.
    """

    name = models.CharField(max_length=255, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    window_ends = models.FloatField(db_index=True)
    last_hit = models.FloatField()

    class Meta:
        db_table = "rate_limit_hits"

    def __str__(self) -> str:
        return f"{self.name}: {self.count}"
