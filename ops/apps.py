"""Ops app: health, readiness, metrics, logging, backup, restore and cleanup."""

import logging
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def _pause_during_restore(sender: Any, **kwargs: Any) -> None:
    """q2 pre_execute: a worker holds its next task while a restore runs."""
    from ops import maintenance

    # Fresh, not cached: a task that starts just after the gate closed would only see its writes refused.
    if maintenance.is_active(fresh=True):
        maintenance.wait_while_active()


def _start_worker_agent(sender: Any, **kwargs: Any) -> None:
    """q2 post_spawn: every worker process gets its heartbeat/metrics thread."""
    from django.conf import settings

    from ops.worker import start_agent

    # In sync mode django-q2 runs the worker function inside the caller: that process is no worker.
    if settings.Q_CLUSTER.get("sync"):
        return
    start_agent()


def _mark_busy(sender: Any, **kwargs: Any) -> None:
    from ops.worker import mark_busy

    mark_busy()


def _mark_idle(sender: Any, **kwargs: Any) -> None:
    from ops.worker import mark_idle

    mark_idle()


class OpsConfig(AppConfig):
    """App configuration for operations."""

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, post_spawn, pre_execute

        # Python warnings become log records (logger py.warnings), so stderr carries JSON lines only.
        logging.captureWarnings(True)

        from ops import maintenance
        from ops.metrics import receivers
        from ops.schedules import ensure_schedules

        receivers.connect()
        post_spawn.connect(_start_worker_agent, dispatch_uid="ops.worker_agent")
        # Busy from before the restore pause: a paused worker is waiting on purpose, not frozen.
        pre_execute.connect(_mark_busy, dispatch_uid="ops.worker_busy")
        pre_execute.connect(_pause_during_restore, dispatch_uid="ops.pause_during_restore")
        post_execute_in_worker.connect(_mark_idle, dispatch_uid="ops.worker_idle")
        connection_created.connect(maintenance.install_write_gate, dispatch_uid="ops.write_gate")
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="ops.schedules")
