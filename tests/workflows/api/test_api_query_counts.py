"""Every list endpoint runs the same number of queries for 1 row as for 20."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.api.factories import (
    count_queries,
    make_application,
    make_execution,
    make_log,
    make_resource,
    make_step,
)
from workflows.choices import ResourceState

pytestmark = pytest.mark.django_db

# Queries on the domain tables per request (count + page, or the stats aggregates).
MAX_DOMAIN_QUERIES = 4
# Everything, including authentication, throttling and auditing done by other layers.
MAX_QUERIES = 30


def grow(
    make_one: Callable[[int], Any],
    url: str,
    client: APIClient,
    django_assert_max_num_queries: Any,
    *,
    rows: Callable[[Any], int] = lambda body: len(body["results"]),
) -> None:
    make_one(0)
    _, _, one = count_queries(client, url)
    for index in range(1, 20):
        make_one(index)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url)
    assert rows(response.json()) == 20
    _, _, many = count_queries(client, url)
    assert many == one
    assert many <= MAX_DOMAIN_QUERIES


@pytest.mark.parametrize("url", ["/api/applications", "/api/specs"])
def test_applications(api: APIClient, developer: Any, url: str, django_assert_max_num_queries: Any) -> None:
    def make(index: int) -> None:
        make_application(developer, f"app-{index:02d}")
        make_application(developer, f"app-{index:02d}", image="nginx:2")  # a second revision

    grow(make, url, api, django_assert_max_num_queries)


def test_revisions(api: APIClient, developer: Any, django_assert_max_num_queries: Any) -> None:
    grow(
        lambda index: make_application(developer, "app", image=f"nginx:{index}"),
        "/api/applications/app/revisions",
        api,
        django_assert_max_num_queries,
    )


def test_executions(api: APIClient, developer: Any, django_assert_max_num_queries: Any) -> None:
    app = make_application(developer, "app")

    def make(index: int) -> None:
        execution = make_execution(app)
        make_step(execution, "a")
        make_step(execution, "b", position=1)

    grow(make, "/api/workflows", api, django_assert_max_num_queries)


def test_execution_detail_with_many_steps(
    api: APIClient, developer: Any, django_assert_max_num_queries: Any
) -> None:
    execution = make_execution(make_application(developer, "app"))
    grow(
        lambda index: make_step(execution, f"s{index}", position=index),
        f"/api/workflows/{execution.id}",
        api,
        django_assert_max_num_queries,
        rows=lambda body: len(body["steps"]),
    )


def test_logs(api: APIClient, developer: Any, django_assert_max_num_queries: Any) -> None:
    execution = make_execution(make_application(developer, "app"))
    steps = [make_step(execution, "a"), make_step(execution, "b", position=1)]
    grow(
        lambda index: make_log(steps[index % 2], index, f"line {index}"),
        f"/api/workflows/{execution.id}/logs",
        api,
        django_assert_max_num_queries,
        rows=lambda body: len(body["lines"]),
    )


def test_resources(api: APIClient, developer: Any, django_assert_max_num_queries: Any) -> None:
    app = make_application(developer, "app")

    def make(index: int) -> None:
        resource = make_resource(app, f"res-{index:02d}", state=ResourceState.REQUESTED)
        resource.transition(ResourceState.PROVISIONING)

    grow(make, "/api/resources", api, django_assert_max_num_queries)


def test_resource_detail_with_many_transitions(
    api: APIClient, developer: Any, django_assert_max_num_queries: Any
) -> None:
    resource = make_resource(make_application(developer, "app"), state=ResourceState.ACTIVE)
    grow(
        lambda index: resource.transition(ResourceState.UPDATING if index % 2 == 0 else ResourceState.ACTIVE),
        f"/api/resources/{resource.id}",
        api,
        django_assert_max_num_queries,
        rows=lambda body: len(body["transitions"]),
    )


def test_stats(api: APIClient, developer: Any, django_assert_max_num_queries: Any) -> None:
    def make(index: int) -> None:
        app = make_application(developer, f"app-{index:02d}")
        make_resource(app)
        make_step(make_execution(app))

    grow(make, "/api/stats", api, django_assert_max_num_queries, rows=lambda body: body["applications"])
