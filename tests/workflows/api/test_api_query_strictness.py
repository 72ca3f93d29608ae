"""Query parameters are validated strictly: a wrong value is a 400 naming the parameter, never ignored."""

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("page_size=false", "page_size"),
        ("page_size=null", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=501", "page_size"),
        ("page=0", "page"),
        ("page=last", "page"),
        ("page=1", "page"),  # the execution list pages by cursor: a page number is refused, not ignored
        ("cursor=bogus", "cursor"),
        ("cursor=eyJvIjpbImFwcF9uYW1lIiwiaWQiXSwidiI6WyJhIiwiYiJdLCJyIjowfQ", "cursor"),  # another ordering
        ("ordering=bogus", "ordering"),
        ("ordering=", "ordering"),
        ("ordering=-created_at,nope", "ordering"),
        ("created_after=", "created_after"),
        ("created_after=yesterday", "created_after"),
    ],
)
def test_a_wrong_query_value_is_a_400_with_its_path(api: APIClient, query: str, path: str) -> None:
    response = api.get(f"/api/workflows?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [error["path"] for error in response.json()["errors"]] == [path]


@pytest.mark.parametrize(
    "query",
    [
        "page_size=500",
        "ordering=-created_at,app_name",
        "status=",
        "status=running,failed",
        "search=",
        # RFC 3339 allows offsets PostgreSQL does not: they are converted to UTC, not a 500.
        "since=0082-12-27T12:28:22.0-21:49",
        "until=9999-12-31T23:59:59Z",
    ],
)
def test_valid_query_values_are_accepted(api: APIClient, query: str) -> None:
    response = api.get(f"/api/workflows?{query}")
    assert response.status_code == 200, response.content


def test_a_page_past_the_last_is_404(api: APIClient) -> None:
    response = api.get("/api/applications?page=2")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("value", "status"), [("true", 200), ("false", 200), ("maybe", 400), ("", 400)])
def test_booleans_are_true_or_false(admin_api: APIClient, value: str, status: int) -> None:
    response = admin_api.get(f"/api/admin/users?is_active={value}")
    assert response.status_code == status, response.content


def test_every_operation_documents_the_errors_any_request_can_get(admin_api: APIClient) -> None:
    schema: dict[str, Any] = admin_api.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    ).json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "414", "429", "503"} <= codes, (method, path, codes)
    parameters = schema["paths"]["/api/workflows"]["get"]["parameters"]
    page_size = next(p for p in parameters if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1, "maximum": 500}
    resource = schema["components"]["schemas"]["Resource"]["properties"]["reference_url"]
    assert "format" not in resource, "an empty reference_url is not a URI"
