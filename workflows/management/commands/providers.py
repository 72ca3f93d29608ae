"""`manage.py providers validate`: load every provider strictly (for the CI of provider repositories).

The server loads providers tolerantly by default (a broken one is disabled with its reason); this
command fails on the first broken provider or conflict, with a non-zero exit status.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows.providers.model import ProviderError
from workflows.providers.registry import build_registry


class Command(BaseCommand):
    help = "Validate providers (subcommand: validate): every provider loads and no two claim one type."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("validate", help="Load the built-in and configured providers strictly.")

    def handle(self, *args: Any, subcommand: str, **options: Any) -> None:
        if subcommand != "validate":
            raise CommandError(f"unknown subcommand {subcommand!r}")
        try:
            registry = build_registry(strict=True)
        except (ProviderError, ImproperlyConfigured) as exc:
            raise CommandError(str(exc)) from None
        for type_name, (builtin, configured) in sorted(registry.replaced.items()):
            self.stdout.write(f"type {type_name}: provider {configured} replaces built-in {builtin}")
        for name in sorted(registry.providers):
            provider = registry.providers[name]
            kind = "built-in" if provider.builtin else "configured"
            types = ", ".join(t for t, owner in sorted(registry.owners.items()) if owner == name) or "-"
            self.stdout.write(f"{name} ({kind}): {types}")
        self.stdout.write(self.style.SUCCESS(f"{len(registry.providers)} provider(s) valid"))
