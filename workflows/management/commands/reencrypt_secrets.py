"""manage.py reencrypt_secrets: rewrite stored secret outputs with the current encryption key."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from innominatus.locks import LockHeld, command_lock
from workflows.services.secrets import reencrypt_all

# Held for the whole run, so that two replicas never rewrite the same rows at once.
REENCRYPT_LOCK = "innominatus:reencrypt-secrets"


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret output with ENCRYPTION_KEY; former keys must still be listed in "
        "ENCRYPTION_PREVIOUS_KEYS while this runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be re-encrypted.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with command_lock(REENCRYPT_LOCK):
                report = reencrypt_all(dry_run=options["dry_run"])
        except LockHeld:
            raise CommandError("another re-encryption is running (lock held); try again later") from None
        verb = "would re-encrypt" if report.dry_run else "re-encrypted"
        self.stdout.write(f"{verb}: {report.reencrypted}")
        self.stdout.write(f"already on the current key: {report.current}")
        if report.unreadable:
            names = ", ".join(report.unreadable)
            raise CommandError(
                f"{len(report.unreadable)} resource(s) cannot be decrypted with any configured key: {names}"
            )
