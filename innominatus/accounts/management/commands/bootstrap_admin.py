"""Create the first platform admin and print its generated password once."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from innominatus.accounts.services import create_api_key


class Command(BaseCommand):
    help = "Create the first admin user (if absent) and print its password once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args: Any, username: str, email: str, **options: Any) -> None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"Admin user '{username}' already exists; its password was printed when it was created "
                f"(reset it with: .venv/bin/python manage.py changepassword {username})."
            )
            return
        password = secrets.token_urlsafe(12)
        user = User.objects.create_superuser(username=username, email=email, password=password)
        issued = create_api_key(user=user, name="bootstrap", expiry_days=30)
        banner = "=" * 64
        self.stdout.write(banner)
        self.stdout.write("innominatus admin account created (shown only this once):")
        self.stdout.write(f"  username: {username}")
        self.stdout.write(f"  password: {password}")
        self.stdout.write(f"  API key:  {issued.raw_key}  (30 days; use as 'Authorization: Bearer <key>')")
        self.stdout.write(
            f"  sign in at http://localhost:{settings.PORT}/login; API keys are managed at /profile"
        )
        self.stdout.write(banner)
