"""The bounded backlog: events older than EVENTS_RETENTION_HOURS, or beyond the newest
EVENTS_RETENTION_COUNT, are deleted in small batches (every 10 minutes by the q2 schedule of
workflows/events/setup.py). A client resuming from a pruned id is told to reset (see reader.py)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from workflows.models import Event

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000


def prune_events(*, hours: int | None = None, keep: int | None = None) -> int:
    """Delete events past the retention; returns how many. Ids grow with time, so both bounds are an
    id: the primary key serves every statement and no index on the time is needed."""
    hours = settings.EVENTS_RETENTION_HOURS if hours is None else hours
    keep = settings.EVENTS_RETENTION_COUNT if keep is None else keep
    newest = Event.objects.aggregate(newest=Max("id"))["newest"]
    if newest is None:
        return 0
    below = newest - keep + 1  # ids below this are beyond the count
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted = 0
    while True:
        # The oldest rows first: the scan stops at the first batch's end, whatever the table's size.
        batch = list(Event.objects.order_by("id").values_list("id", "created_at")[:BATCH_SIZE])
        doomed = [pk for pk, created in batch if pk < below or created < cutoff]
        if not doomed:
            break
        deleted += Event.objects.filter(id__lte=doomed[-1], id__gte=doomed[0]).delete()[0]
        if len(doomed) < len(batch):
            break
    if deleted:
        logger.info("pruned events", extra={"deleted": deleted, "hours": hours, "keep": keep})
    return deleted


def prune_task() -> int:
    """The q2 schedule's entry point."""
    return prune_events()
