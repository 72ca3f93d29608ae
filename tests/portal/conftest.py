"""Fixtures of the portal tests: signed-in browsers (Django test clients) for two teams."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    """A test client signed in as `user`."""

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def portal(developer: Any, client_for: Callable[[Any], Client]) -> Client:
    """The team-a developer's browser."""
    return client_for(developer)


@pytest.fixture
def outsider(make_user: Callable[..., Any]) -> Any:
    """A developer of team-b, who must not see team-a's objects."""
    return make_user("outsider", team="team-b")


@pytest.fixture
def viewer(make_user: Callable[..., Any]) -> Any:
    """A team-a member with the read-only viewer role."""
    return make_user("viewer", role="viewer")
