"""Accounts app: teams, roles, API keys, sign-in and audit."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """App configuration for accounts."""

    name = "innominatus.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from innominatus.accounts import checks, schema, signals  # noqa: F401 - registers receivers, checks, schemes
