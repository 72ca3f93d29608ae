"""Ops app: health, readiness, metrics, logging, backup, restore and cleanup."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    """App configuration for operations."""

    name = "ops"
    verbose_name = "Operations"
