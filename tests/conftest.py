"""Shared fixtures: users, teams and authenticated API clients."""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from innominatus.accounts.models import Team

User = get_user_model()

# The fake Kubernetes API server fixtures: fake_kube, fake_kubeconfig, no_cluster.
pytest_plugins = ["tests.fakekube.fixtures"]


@pytest.fixture
def tmp_path(tmp_path: Path) -> Iterator[Path]:
    """A fresh directory the step user may use: tests run as root, and a root worker runs step processes
    as `nobody` (STEP_RUN_AS_USER), which cannot enter pytest's own tmp_path (under a 0700 directory
    every pytest session of root resets)."""
    if os.geteuid() != 0:
        yield tmp_path
        return
    shared = Path(tempfile.mkdtemp(prefix=f"innominatus-{tmp_path.name[:40]}-"))
    shared.chmod(0o777)
    try:
        yield shared
    finally:
        shutil.rmtree(shared, ignore_errors=True)


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    """Create a user, optionally in a team and a role (a Django group, see innominatus/accounts/rbac.py)."""

    def make(
        username: str = "dev",
        *,
        team: str | None = "team-a",
        superuser: bool = False,
        role: str | None = "developer",
        **extra: Any,
    ) -> Any:
        if superuser:
            user = User.objects.create_superuser(username=username, password="pw-" + username, **extra)
        else:
            user = User.objects.create_user(username=username, password="pw-" + username, **extra)
            if role:
                user.groups.add(Group.objects.get_or_create(name=role)[0])
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


@pytest.fixture(autouse=True)
def plain_static_storage(settings: Any) -> None:
    """Pages (portal, login, errors) need static URLs; the manifest storage would need collectstatic
    first. Tests that check the manifest storage itself set it back."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _close_event_hub() -> Iterator[None]:
    """A test that reached the event endpoints started this process's event listener, which holds a
    database connection of its own: closed after the test, or the test database could not be dropped."""
    yield
    from workflows.events import hub

    if hub._hub._thread is not None:
        hub._hub.close()
        hub._hub = hub.Hub()
