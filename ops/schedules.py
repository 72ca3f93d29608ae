"""The django-q2 schedules of the periodic operations jobs, created idempotently after migrate."""

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

CLEANUP_SCHEDULE = "innominatus-cleanup"
BACKUP_SCHEDULE = "innominatus-backup"


def _next_at(hour: int, minute: int) -> datetime:
    now = timezone.now()
    candidate = datetime.combine(now.date(), time(hour, minute), tzinfo=now.tzinfo)
    return candidate if candidate > now else candidate + timedelta(days=1)


def ensure_schedules(**kwargs: Any) -> None:
    """Create (or remove) the cleanup and backup schedules according to settings; keeps next_run."""
    from django_q.models import Schedule

    wanted = {
        CLEANUP_SCHEDULE: ("ops.tasks.run_cleanup", settings.CLEANUP_SCHEDULE, (3, 15)),
        BACKUP_SCHEDULE: ("ops.tasks.run_backup", settings.BACKUP_SCHEDULE, (2, 0)),
    }
    for name, (func, enabled, (hour, minute)) in wanted.items():
        if not enabled:
            Schedule.objects.filter(name=name).delete()
            continue
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.DAILY, "repeats": -1},
            create_defaults={
                "func": func,
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
                "next_run": _next_at(hour, minute),
            },
        )
