"""Accounts app: teams, roles, API keys, sign-in and audit."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """App configuration for accounts."""

    name = "innominatus.accounts"
    label = "accounts"
    verbose_name = "Accounts"
