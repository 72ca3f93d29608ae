"""Run the workflow worker: django-q2 worker processes under our supervisor (signals, drain, probes)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.supervisor.master import Supervisor


class Command(BaseCommand):
    help = (
        "Run the worker: takes queued steps and periodic jobs; drains on SIGTERM (use instead of qcluster)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, help="Worker processes (default: Q_WORKERS).")
        parser.add_argument(
            "--drain-seconds", type=float, help="Drain time after SIGTERM (WORKER_DRAIN_SECONDS)."
        )
        parser.add_argument("--probe-port", type=int, help="Port of /livez and /readyz (WORKER_PROBE_PORT).")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.Q_CLUSTER.get("sync"):
            raise CommandError("Q_SYNC is on: tasks run in the process that sends them; no worker is needed")
        workers = options["workers"] or int(str(settings.Q_CLUSTER.get("workers", 2)))
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        drain = options["drain_seconds"]
        probe = options["probe_port"]
        supervisor = Supervisor(
            workers=workers,
            drain_seconds=float(settings.WORKER_DRAIN_SECONDS if drain is None else drain),
            probe_port=int(settings.WORKER_PROBE_PORT if probe is None else probe),
        )
        raise SystemExit(supervisor.run())
