"""manage.py backup: a verified dump of the configured database, with retention."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from innominatus.locks import LockHeld, command_lock
from ops.backup import BackupError, create_backup
from ops.tasks import BACKUP_LOCK


class Command(BaseCommand):
    help = (
        "Dump the database to backup-YYYYMMDD-HHMMSS.dump in --output-dir, verify it, keep the newest --keep."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output-dir", type=Path, default=None, help="Directory (default: BACKUP_DIR).")
        parser.add_argument("--keep", type=int, default=None, help="Keep only the newest N backups.")

    def handle(self, *args: Any, **options: Any) -> None:
        keep = options["keep"]
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1")
        output_dir = options["output_dir"] or Path(settings.BACKUP_DIR)
        try:
            with command_lock(BACKUP_LOCK):
                result = create_backup(output_dir=output_dir, keep=keep)
        except LockHeld:
            raise CommandError("another backup is running (lock held); try again later") from None
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{result.path} ({result.size} bytes, {result.entries} entries verified)")
        for path in result.pruned:
            self.stdout.write(f"removed {path}")
