"""Fixtures of the API tests."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.api.factories import post_spec


@pytest.fixture
def submit(api: APIClient) -> Callable[..., Any]:
    """Submit a document as the team-a developer."""

    def do(text: str | bytes, **kwargs: Any) -> Any:
        return post_spec(api, text, **kwargs)

    return do
