"""Create the first platform admin, in a team of its own, and print its generated password once."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction

from innominatus.accounts.models import Team
from innominatus.accounts.services import create_api_key


class Command(BaseCommand):
    help = "Create the first admin user (if absent) and print its password once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")
        # Everything a user deploys belongs to a team: the first admin gets one, so it can deploy at once.
        parser.add_argument("--team", default="platform", help="team the admin joins (created if absent)")

    def handle(self, *args: Any, username: str, email: str, team: str, **options: Any) -> None:
        try:
            validate_slug(team)
        except ValidationError:
            raise CommandError(
                f"--team {team!r} is not a valid team name (letters, digits, '-', '_')"
            ) from None
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Admin user '{username}' already exists; its password was printed when it was created "
                f"(reset it with: .venv/bin/python manage.py changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user = User.objects.create_superuser(username=username, email=email, password=password)
            Team.objects.get_or_create(name=team)[0].members.add(user)
            issued = create_api_key(user=user, name="bootstrap", expiry_days=30)
        banner = "=" * 64
        self.stdout.write(banner)
        self.stdout.write("innominatus admin account created (shown only this once):")
        self.stdout.write(f"  username: {username}")
        self.stdout.write(f"  password: {password}")
        self.stdout.write(f"  team:     {team}")
        self.stdout.write(f"  API key:  {issued.raw_key}  (30 days; use as 'Authorization: Bearer <key>')")
        self.stdout.write(
            f"  sign in at http://localhost:{settings.PORT}/login; API keys are managed at /profile"
        )
        self.stdout.write(banner)
