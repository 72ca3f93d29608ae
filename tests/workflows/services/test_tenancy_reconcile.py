"""Reconciling shared resources: one live instance per team and identity, even when two deploys race."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from innominatus.accounts.models import Team
from tests.workflows.provider_fixtures import fresh_registry
from workflows.choices import ResourceScope, ResourceState
from workflows.models import Application, ResourceInstance
from workflows.providers.registry import current_registry
from workflows.services import reconcile

__all__ = ["fresh_registry"]

pytestmark = pytest.mark.django_db

DB = {"type": "postgres", "id": "shared-db"}


def application(name: str, team: str) -> Application:
    return Application.objects.create(name=name, team=Team.objects.get_or_create(name=team)[0])


def test_the_database_keeps_one_live_team_instance_per_identity() -> None:
    shop = application("shop", "team-a")
    first = reconcile.reconcile_resources(shop, {"resources": {"db": DB}}, registry=current_registry())[0]
    assert first.instance.scope == ResourceScope.TEAM and first.instance.team == shop.team
    with pytest.raises(IntegrityError), transaction.atomic():
        ResourceInstance.objects.create(
            app_name="x",
            resource_name="db",
            resource_type="postgres",
            resource_class="default",
            resource_id="shared-db",
            scope=ResourceScope.TEAM,
            team=shop.team,
        )
    # Another team's instance of the same identity is a different row; a terminated one does not count.
    other = application("shop-b", "team-b")
    theirs = reconcile.reconcile_resources(other, {"resources": {"db": DB}}, registry=current_registry())[0]
    assert theirs.instance.pk != first.instance.pk
    ResourceInstance.objects.filter(pk=theirs.instance.pk).update(state=ResourceState.TERMINATED)
    ResourceInstance.objects.create(
        app_name="shop-b",
        resource_name="db",
        resource_type="postgres",
        resource_class="default",
        resource_id="shared-db",
        scope=ResourceScope.TEAM,
        team=other.team,
    )


def test_a_deploy_that_loses_the_race_binds_to_the_winner(monkeypatch: pytest.MonkeyPatch) -> None:
    shop, cart = application("shop", "team-a"), application("cart", "team-a")
    winner = reconcile.reconcile_resources(shop, {"resources": {"db": DB}}, registry=current_registry())[0]
    # The second deploy did not see the first one's row when it looked (it was not committed yet).
    real: Callable[..., Any] = reconcile._find_shared
    looked: list[bool] = []

    def stale_then_real(*args: Any, **kwargs: Any) -> Any:
        looked.append(True)
        return None if len(looked) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(reconcile, "_find_shared", stale_then_real)
    change = reconcile.reconcile_resources(cart, {"resources": {"db": DB}}, registry=current_registry())[0]
    assert change.instance.pk == winner.instance.pk
    assert sorted(change.instance.bindings.values_list("app_name", flat=True)) == ["cart", "shop"]
    assert ResourceInstance.objects.filter(resource_id="shared-db").count() == 1
    assert len(looked) == 2
