"""A daemon thread in every q2 worker process that runs the reaper on a short interval."""

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)

_started = threading.Event()


def _loop(interval: float) -> None:
    from workflows.services.reaper import reap

    while True:
        try:
            close_old_connections()
            report = reap()
            if report.retried or report.failed or report.timed_out:
                logger.warning(
                    "reaper recovered work",
                    extra={"retried": report.retried, "failed": report.failed, "timed_out": report.timed_out},
                )
        except Exception:
            logger.exception("reaper pass failed")
        time.sleep(interval)


def start_reaper_thread(sender: Any = None, proc_name: str = "", **kwargs: Any) -> None:
    """Connected to django-q2's post_spawn: one reaper thread per worker process, started at spawn."""
    if _started.is_set() or settings.Q_CLUSTER.get("sync"):
        return
    _started.set()
    interval = float(settings.REAPER_INTERVAL_SECONDS)
    threading.Thread(target=_loop, args=(interval,), name="innominatus-reaper", daemon=True).start()


def ensure_schedules(sender: Any = None, **kwargs: Any) -> None:
    """Once-a-minute q2 schedules: the reaper backstop and ephemeral-environment expiry (idempotent)."""
    from django_q.models import Schedule

    every_minute = {"schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1}
    Schedule.objects.update_or_create(
        name="innominatus-reaper", defaults={"func": "workflows.tasks.run_reaper", **every_minute}
    )
    Schedule.objects.update_or_create(
        name="innominatus-ephemeral-expiry",
        defaults={"func": "workflows.tasks.run_expire_ephemeral_environments", **every_minute},
    )
