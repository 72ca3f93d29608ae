"""Fixtures for deploy tests: a fresh provider registry and the platform's admin-config."""

from tests.workflows.provider_fixtures import admin_config, fresh_registry, platform

__all__ = ["admin_config", "fresh_registry", "platform"]
