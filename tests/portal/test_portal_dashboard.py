"""The dashboard: sign-in, counts per team, the hourly chart and bounded queries."""

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.portal.factories import make_application, make_execution, make_resource
from workflows.choices import ExecutionStatus, ResourceState

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_the_login_page(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL + "?next=/")


def test_live_fragments_send_an_expired_session_to_the_login_page(client: Client) -> None:
    response = client.get(
        "/workflows/wf-1/status", headers={"HX-Request": "true", "HX-Current-URL": "http://x/workflows/wf-1"}
    )
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(settings.LOGIN_URL + "?next=/workflows/wf-1")


def test_counts_cover_only_the_users_teams(portal: Client, developer: Any, outsider: Any) -> None:
    mine = make_application(developer, "mine")
    theirs = make_application(outsider, "theirs")
    make_execution(mine, status=ExecutionStatus.RUNNING)
    make_execution(mine, status=ExecutionStatus.FAILED)
    make_execution(mine, status=ExecutionStatus.COMPLETED)
    make_execution(mine, status=ExecutionStatus.COMPLETED)
    make_execution(mine, status=ExecutionStatus.COMPLETED)
    make_execution(mine, status=ExecutionStatus.FAILED, created_ago=timedelta(days=3))
    make_execution(theirs, status=ExecutionStatus.FAILED)
    make_execution(theirs, status=ExecutionStatus.RUNNING)
    make_resource(mine, "db", state=ResourceState.ACTIVE)
    make_resource(mine, "cache", resource_type="redis", state=ResourceState.FAILED)
    make_resource(theirs, "db", state=ResourceState.DEGRADED)

    response = portal.get(reverse("portal:dashboard"))

    assert response.status_code == 200
    assert response.context["application_count"] == 1
    assert response.context["totals"]["running"] == 1
    assert response.context["totals"]["failed"] == 1
    assert response.context["success_rate"] == 75
    assert response.context["resource_states"] == [("active", 1), ("failed", 1)]
    assert [e.app_name for e in response.context["recent"]] == ["mine"] * 6
    body = response.content.decode()
    assert 'data-count="success-rate">75%' in body
    assert "theirs" not in body


def test_chart_has_one_bar_slot_per_hour_and_an_accessible_name(portal: Client, developer: Any) -> None:
    app = make_application(developer, "charted")
    make_execution(app, status=ExecutionStatus.COMPLETED, created_ago=timedelta(hours=2))
    make_execution(app, status=ExecutionStatus.FAILED, created_ago=timedelta(hours=2))
    response = portal.get("/")
    chart = str(response.context["chart"])
    assert 'role="img"' in chart
    assert "Executions per hour, last 24 hours" in chart
    assert chart.count("<g><title>") == 24
    assert chart.count('data-series="completed"') == 1
    assert chart.count('data-series="failed"') == 1


def test_empty_dashboard_explains_what_to_do(portal: Client) -> None:
    body = portal.get("/").content.decode()
    assert "No workflow has run yet" in body
    assert "No resources yet" in body


@pytest.mark.parametrize("rows", [1, 20])
def test_query_count_does_not_grow_with_rows(
    rows: int, portal: Client, developer: Any, django_assert_max_num_queries: Any
) -> None:
    app = make_application(developer, "busy")
    for index in range(rows):
        make_execution(app, status=ExecutionStatus.COMPLETED, created_ago=timedelta(minutes=index))
        make_resource(app, f"db{index}")
    # Running and waiting-for-approval runs are counted apart; recent runs are decorated per page.
    with django_assert_max_num_queries(13):
        assert portal.get("/").status_code == 200
