"""/api/stats reads counters the database keeps exact on every insert, status change and delete."""

from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from rest_framework.test import APIClient

from innominatus.accounts.models import Team
from tests.workflows.api.factories import make_application, make_execution
from workflows.choices import ExecutionStatus
from workflows.models import ExecutionStatusCount, WorkflowExecution

pytestmark = pytest.mark.django_db


def _aggregate(**filters: Any) -> dict[str, int]:
    rows = WorkflowExecution.objects.filter(**filters).values_list("status").annotate(n=Count("pk"))
    return {status: n for status, n in rows.order_by()}


def test_stats_follow_inserts_transitions_and_deletes(
    api: APIClient, admin_api: APIClient, developer: Any, make_user: Any
) -> None:
    mine = make_application(developer, "shop")
    other_dev = make_user("other", team="team-b")
    theirs = make_application(other_dev, "blog")
    runs = [make_execution(mine, status=ExecutionStatus.PENDING) for _ in range(3)]
    make_execution(theirs, status=ExecutionStatus.FAILED)
    make_execution(None, status=ExecutionStatus.COMPLETED)  # no team: counted for admins only
    runs[0].start()
    runs[0].finish(ExecutionStatus.COMPLETED)
    runs[1].cancel("no longer needed")
    WorkflowExecution.objects.filter(pk=runs[2].pk).update(error_message="x")  # no status change
    WorkflowExecution.objects.filter(app_name="blog").delete()
    WorkflowExecution.objects.filter(pk=runs[1].pk).update(team=Team.objects.get(name="team-b"))

    mine_stats = api.get("/api/stats").json()
    all_stats = admin_api.get("/api/stats").json()

    team_a = Team.objects.get(name="team-a")
    expected_mine = _aggregate(team=team_a)
    assert {k: v for k, v in mine_stats["executions_by_status"].items() if v} == expected_mine
    assert mine_stats["executions"] == sum(expected_mine.values()) == 2
    expected_all = _aggregate()
    assert {k: v for k, v in all_stats["executions_by_status"].items() if v} == expected_all
    if connection.vendor == "postgresql":
        # Exact counters, not an aggregate: the stats read one row per team and status.
        assert (
            sum(ExecutionStatusCount.objects.values_list("n", flat=True)) == WorkflowExecution.objects.count()
        )
