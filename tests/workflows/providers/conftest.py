"""Fixtures for provider tests: a fresh provider registry and an admin-config."""

from tests.workflows.provider_fixtures import admin_config, fresh_registry, platform

__all__ = ["admin_config", "fresh_registry", "platform"]
