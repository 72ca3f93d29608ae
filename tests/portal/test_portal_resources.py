"""Resources and providers: filtered lists of what the user's teams declared, and the resource types."""

from typing import Any

import pytest
from django.test import Client

from tests.portal.factories import make_application, make_resource
from workflows.choices import ResourceState

pytestmark = pytest.mark.django_db


def test_resources_are_listed_and_filtered(portal: Client, developer: Any, outsider: Any) -> None:
    shop = make_application(developer, "shop")
    make_resource(shop, "db", state=ResourceState.ACTIVE)
    make_resource(shop, "cache", resource_type="redis", state=ResourceState.FAILED, error_message="no memory")
    make_resource(make_application(developer, "blog"), "db", state=ResourceState.PROVISIONING)
    make_resource(make_application(outsider, "theirs"), "db")

    def names(**query: str) -> list[str]:
        response = portal.get("/resources", query)
        assert response.status_code == 200
        return [f"{r.app_name}/{r.resource_name}" for r in response.context["page"].object_list]

    assert names() == ["blog/db", "shop/cache", "shop/db"]
    assert names(type="redis") == ["shop/cache"]
    assert names(state="provisioning") == ["blog/db"]
    assert names(app="sho") == ["shop/cache", "shop/db"]
    body = portal.get("/resources").content.decode()
    assert "no memory" in body and "theirs" not in body
    # Only the types the user's resources use are offered as a filter.
    assert [value for value, _ in portal.get("/resources").context["form"].fields["type"].choices] == [
        "",
        "postgres",
        "redis",
    ]


def test_empty_resources_page_explains_itself(portal: Client) -> None:
    assert "No resources yet" in portal.get("/resources").content.decode()


@pytest.mark.parametrize("rows", [1, 20])
def test_resource_query_count_does_not_grow_with_rows(
    rows: int, portal: Client, developer: Any, django_assert_max_num_queries: Any
) -> None:
    app = make_application(developer, "many")
    for index in range(rows):
        make_resource(app, f"r{index}")
    with django_assert_max_num_queries(8):
        assert portal.get("/resources").status_code == 200


def test_providers_page_lists_each_providers_types_usage_and_workflows(
    portal: Client, developer: Any, outsider: Any
) -> None:
    make_resource(make_application(developer, "shop"), "db")
    make_resource(make_application(outsider, "theirs"), "cache", resource_type="redis")
    make_resource(make_application(developer, "old"), "legacy", resource_type="gone-type")

    response = portal.get("/providers")

    assert response.status_code == 200
    entries = {entry["provider"].name: entry for entry in response.context["providers"]}
    usage = {item["name"]: item["in_use"] for entry in entries.values() for item in entry["types"]}
    assert usage["postgres"] == 1
    assert usage["redis"] == 0  # the other team's resource is not counted
    assert entries["postgres"]["workflows"], "a provider lists the workflows it runs"
    assert response.context["unclaimed"] == [("gone-type", 1)]
    body = response.content.decode()
    assert 'data-provider="postgres"' in body
    assert ">secret</span>" in body  # the postgres password output is marked secret


def test_sign_in_required(client: Client) -> None:
    assert client.get("/resources").status_code == 302
    assert client.get("/providers").status_code == 302
