"""Operator commands for workflow executions: list stuck runs and recover them."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from innominatus.locks import LockHeld, command_lock
from workflows.services.backlog import claimable_messages, oldest_message_wait, waiting_steps
from workflows.services.reaper import ReapReport, expired_steps, recover_step

# Held by `stuck --recover`, so that two replicas never recover the same steps at once.
RECOVER_LOCK = "innominatus:workflows-recover"
WAITING_SHOWN = 50


class Command(BaseCommand):
    help = "Inspect and recover workflow executions (subcommand: stuck [--recover])."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        stuck = sub.add_parser(
            "stuck", help="List steps waiting for a worker and running executions whose step leases expired."
        )
        stuck.add_argument("--recover", action="store_true", help="Hand them to the reaper (retry or fail).")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand != "stuck":
            raise CommandError(f"unknown subcommand {subcommand!r}")
        if not options["recover"]:
            self._stuck(recover=False)
            return
        try:
            with command_lock(RECOVER_LOCK):
                self._stuck(recover=True)
        except LockHeld:
            raise CommandError(
                "another replica is recovering stuck workflows (lock held); try again later"
            ) from None

    def _stuck(self, *, recover: bool) -> None:
        now = timezone.now()
        self._waiting(now)
        steps = expired_steps(now)
        if not steps:
            self.stdout.write("No stuck workflows: every running step has a live lease.")
            return
        self.stdout.write(f"{'EXECUTION':<18} {'APP':<24} {'STEP':<24} {'OWNER':<32} EXPIRED")
        for step in steps:
            expired = now - step.lease_expires_at if step.lease_expires_at else None
            ago = f"{int(expired.total_seconds())}s ago" if expired else "?"
            self.stdout.write(
                f"{step.execution_id:<18} {step.execution.app_name[:24]:<24} {step.name[:24]:<24} "
                f"{step.lease_owner[:32]:<32} {ago}"
            )
        if not recover:
            self.stdout.write(f"{len(steps)} stuck step(s); run with --recover to retry or fail them.")
            return
        report = ReapReport()
        for step in steps:
            recover_step(step, report)
        self.stdout.write(
            f"Recovered: {len(report.retried)} retried, {len(report.failed)} failed, "
            f"{len(report.cancelled)} cancelled."
        )

    def _waiting(self, now: datetime) -> None:
        """Ready steps no worker has taken: the queue is not consumed (no worker, or a frozen one)."""
        stall = float(settings.WORKER_STALL_SECONDS)
        waiting = list(waiting_steps(stall, now).select_related("execution")[:WAITING_SHOWN])
        queued, oldest = claimable_messages(now).count(), oldest_message_wait(now)
        if not waiting and oldest <= stall:
            self.stdout.write(f"No work waiting for a worker longer than {stall:.0f} s.")
            return
        self.stdout.write(
            f"Waiting for a worker: {queued} queued task(s), the oldest for {oldest:.0f} s; "
            "ready steps no worker has taken:"
        )
        self.stdout.write(f"{'EXECUTION':<18} {'APP':<24} {'STEP':<24} WAITING")
        for step in waiting:
            assert step.dispatched_at is not None
            self.stdout.write(
                f"{step.execution_id:<18} {step.execution.app_name[:24]:<24} {step.name[:24]:<24} "
                f"{int((now - step.dispatched_at).total_seconds())}s"
            )
        self.stdout.write(
            "Check that a worker runs (`manage.py worker`, /health's workers check); the reaper re-queues "
            "these steps, a worker must take them."
        )
