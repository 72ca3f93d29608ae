"""Portal app: templates, views and static files of the developer portal."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """App configuration for the portal."""

    name = "portal"
    verbose_name = "Portal"
