"""Provider fixtures shared by the provider and deploy tests: a fresh registry and an admin-config."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflows.providers.registry import forget_registry


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    """Each test loads providers from the configuration it sets up."""
    forget_registry()
    yield
    forget_registry()


@pytest.fixture
def admin_config(tmp_path: Path, settings: Any) -> Callable[[dict[str, Any]], Path]:
    """Write an admin-config.yaml and point ADMIN_CONFIG at it."""

    def write(document: dict[str, Any]) -> Path:
        path = tmp_path / "admin-config.yaml"
        path.write_text(yaml.safe_dump(document))
        settings.ADMIN_CONFIG = str(path)
        forget_registry()
        return path

    return write


@pytest.fixture
def platform(admin_config: Callable[[dict[str, Any]], Path]) -> Path:
    """The platform settings every deploy test uses (environment values for `type: environment`)."""
    return admin_config({"deploy": {"baseDomain": "apps.test"}, "environment": {"NAME": "World"}})
