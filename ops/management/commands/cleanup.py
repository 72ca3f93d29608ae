"""manage.py cleanup: retention of executions, steps, logs, q2 history, sessions, audit events and API keys."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from innominatus.locks import LockHeld, command_lock
from ops.cleanup import cleanup
from ops.tasks import CLEANUP_LOCK


class Command(BaseCommand):
    help = (
        "Delete finished executions (with steps and logs), q2 history, audit events and expired or "
        "revoked API keys older than --days, and expired sessions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="Retention in days (default: RETENTION_DAYS)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] if options["days"] is not None else settings.RETENTION_DAYS
        if days < 1:
            raise CommandError("--days must be at least 1")
        try:
            with command_lock(CLEANUP_LOCK):
                report = cleanup(days=days, dry_run=options["dry_run"])
        except LockHeld:
            raise CommandError("another cleanup is running (lock held); try again later") from None
        verb = "would delete" if report.dry_run else "deleted"
        self.stdout.write(f"{verb} (older than {report.cutoff.isoformat()}):")
        for field in ("executions", "steps", "logs", "q2_tasks", "sessions", "audit_events", "api_keys"):
            self.stdout.write(f"  {field}: {getattr(report, field)}")
