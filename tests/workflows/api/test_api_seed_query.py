"""The operations guide's SQL runs verbatim against PostgreSQL and finds the running executions."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from tests.workflows.api.factories import make_application, make_execution
from workflows.choices import ExecutionStatus

pytestmark = pytest.mark.django_db

# Verbatim from the operations guide.
GUIDE_QUERY = (
    "SELECT id, app_name, status, started_at FROM workflow_executions WHERE status='running' "
    "ORDER BY started_at DESC;"
)


def test_guide_query_returns_running_executions_newest_first(developer: Any) -> None:
    assert connection.vendor == "postgresql"
    app = make_application(developer, "hello")
    older = make_execution(app, status=ExecutionStatus.RUNNING, started_ago=timedelta(hours=2))
    newer = make_execution(app, status=ExecutionStatus.RUNNING, started_ago=timedelta(minutes=5))
    make_execution(app, status=ExecutionStatus.COMPLETED)
    make_execution(app, status=ExecutionStatus.PENDING)

    with connection.cursor() as cursor:
        cursor.execute(GUIDE_QUERY)
        rows = cursor.fetchall()

    assert [(row[0], row[1], row[2]) for row in rows] == [
        (newer.id, "hello", "running"),
        (older.id, "hello", "running"),
    ]
    assert rows[0][3] == newer.started_at
    assert all(row[0].startswith("wf-") for row in rows)
