"""Fixtures for the MCP tests: the e2e process fixtures (gunicorn, worker) and a fresh provider registry."""

from tests.e2e.conftest import process_env, processes
from tests.workflows.provider_fixtures import fresh_registry

__all__ = ["fresh_registry", "process_env", "processes"]
