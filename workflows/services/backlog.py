"""Work that waits for a worker: claimable queue messages and ready steps nobody has picked up."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from workflows.choices import EXECUTION_ACTIVE_STATUSES, StepStatus
from workflows.models import StepExecution


def claimable_messages(now: datetime | None = None) -> QuerySet[Any]:
    """django-q2 ORM-broker messages any worker may take now (not held by a worker's lock)."""
    from django_q.models import OrmQ

    return OrmQ.objects.filter(lock__lte=now or timezone.now())


def oldest_message_wait(now: datetime | None = None) -> float:
    """Seconds the oldest claimable message has waited (0 when none waits)."""
    now = now or timezone.now()
    oldest = claimable_messages(now).aggregate(first=Min("lock"))["first"]
    return max(0.0, (now - oldest).total_seconds()) if oldest else 0.0


def waiting_steps(older_than: float, now: datetime | None = None) -> QuerySet[StepExecution]:
    """Ready steps whose run message was sent more than `older_than` seconds ago and that no worker took."""
    now = now or timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (
        StepExecution.objects.filter(
            status=StepStatus.PENDING,
            execution__status__in=EXECUTION_ACTIVE_STATUSES,
            dispatched_at__lt=now - timedelta(seconds=older_than),
        )
        .filter(due)
        .order_by("dispatched_at")
    )
