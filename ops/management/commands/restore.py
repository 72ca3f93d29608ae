"""manage.py restore: close the gate (every request and write refused with 503), then pg_restore."""

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from innominatus.locks import LockHeld
from ops import maintenance
from ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore the database from a backup file (pg_restore --clean); requires --yes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="A file written by `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Confirm that the current data is replaced.")
        parser.add_argument(
            "--wait",
            type=float,
            default=60.0,
            help="Seconds to wait for in-flight requests and writes before giving up (default 60).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} does not exist")
        if not options["yes"]:
            raise CommandError(f"restoring {path} replaces every table of the database; re-run with --yes")
        try:
            with maintenance.hold(wait_seconds=options["wait"]):
                self.stdout.write(
                    f"gate closed at {time.time():.6f}: maintenance on, the API answers 503 and workers pause"
                )
                entries = restore_backup(path)
        except LockHeld:
            raise CommandError("a restore is already running") from None
        except maintenance.GateTimeout as exc:
            raise CommandError(str(exc)) from None
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"gate opened at {time.time():.6f}: restored {path} ({entries} entries); maintenance off"
        )
