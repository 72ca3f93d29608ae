"""Shared fixtures: users, teams and authenticated API clients."""

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from innominatus.accounts.models import Team

User = get_user_model()


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    """Create a user, optionally in a team, with a known password."""

    def make(username: str = "dev", *, team: str | None = "team-a", superuser: bool = False, **extra: Any) -> Any:
        if superuser:
            user = User.objects.create_superuser(username=username, password="pw-" + username, **extra)
        else:
            user = User.objects.create_user(username=username, password="pw-" + username, **extra)
        if team:
            team_obj, _ = Team.objects.get_or_create(name=team)
            team_obj.members.add(user)
        return user

    return make


@pytest.fixture
def developer(make_user: Callable[..., Any]) -> Any:
    return make_user("dev")


@pytest.fixture
def platform_admin(make_user: Callable[..., Any]) -> Any:
    return make_user("platform-admin", team=None, superuser=True)


@pytest.fixture
def api(developer: Any) -> APIClient:
    """An API client logged in as a developer of team-a."""
    client = APIClient()
    client.force_authenticate(developer)
    return client


@pytest.fixture
def admin_api(platform_admin: Any) -> APIClient:
    """An API client logged in as a platform admin."""
    client = APIClient()
    client.force_authenticate(platform_admin)
    return client
