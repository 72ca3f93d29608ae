"""Retention on PostgreSQL deletes in SQL batches: steps and logs go, references to the deleted clear."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from ops import cleanup_sql
from ops.cleanup import cleanup
from workflows.models import (
    EphemeralEnvironment,
    ExecutionStatusCount,
    StepExecution,
    StepLog,
    WorkflowExecution,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _execution(age_days: int, status: str = "completed", **fields: Any) -> WorkflowExecution:
    moment = timezone.now() - timedelta(days=age_days)
    execution = WorkflowExecution.objects.create(
        app_name="shop",
        workflow_name="deploy",
        status=status,
        definition={},
        created_at=moment,
        started_at=moment,
        completed_at=moment if status != "running" else None,
        **fields,
    )
    step = StepExecution.objects.create(execution=execution, name="s1", step_type="script", position=0)
    StepLog.objects.bulk_create(
        StepLog(execution=execution, step=step, seq=i, message=f"line {i}", created_at=moment)
        for i in range(3)
    )
    return execution


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the SQL path is PostgreSQL's")


def test_batches_delete_old_work_and_clear_references(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ops.cleanup.BATCH_SIZE", 2)  # several batches for five old executions
    old = [_execution(100 + i) for i in range(5)]
    retry = _execution(1, parent=old[0])  # recent: kept, its parent reference cleared
    running = _execution(120, status="running")
    env = EphemeralEnvironment.objects.create(
        name="pr-1",
        app_name="shop",
        golden_path="preview",
        created_by_execution=old[1],
        teardown_execution=retry,
        expires_at=timezone.now(),
    )
    assert cleanup_sql.supported()

    report = cleanup(days=30)

    assert (report.executions, report.steps, report.logs) == (5, 5, 15)
    assert set(WorkflowExecution.objects.values_list("pk", flat=True)) == {retry.pk, running.pk}
    assert StepLog.objects.count() == 6
    retry.refresh_from_db()
    env.refresh_from_db()
    assert retry.parent_id is None
    assert (env.created_by_execution_id, env.teardown_execution_id) == (None, retry.pk)
    counted = {row.status: row.n for row in ExecutionStatusCount.objects.filter(n__gt=0)}
    assert counted == {"completed": 1, "running": 1}
