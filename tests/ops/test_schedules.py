"""The periodic cleanup and backup schedules exist after migrate, idempotently, as settings say."""

import pytest
from django.test import override_settings
from django_q.models import Schedule

from ops.schedules import BACKUP_SCHEDULE, CLEANUP_SCHEDULE, ensure_schedules

pytestmark = pytest.mark.django_db


def test_migrate_created_the_cleanup_schedule_once() -> None:
    schedule = Schedule.objects.get(name=CLEANUP_SCHEDULE)
    assert schedule.func == "ops.tasks.run_cleanup"
    assert schedule.schedule_type == Schedule.DAILY
    next_run = schedule.next_run
    ensure_schedules()
    ensure_schedules()
    assert Schedule.objects.filter(name=CLEANUP_SCHEDULE).count() == 1
    assert Schedule.objects.get(name=CLEANUP_SCHEDULE).next_run == next_run
    assert not Schedule.objects.filter(name=BACKUP_SCHEDULE).exists()


def test_settings_switch_the_schedules_on_and_off() -> None:
    with override_settings(BACKUP_SCHEDULE=True, CLEANUP_SCHEDULE=False):
        ensure_schedules()
    assert Schedule.objects.get(name=BACKUP_SCHEDULE).func == "ops.tasks.run_backup"
    assert not Schedule.objects.filter(name=CLEANUP_SCHEDULE).exists()
