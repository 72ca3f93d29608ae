"""The triggers write one event per state change, in the changing transaction, owned by the right team."""

from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.workflows.api.factories import make_application, make_execution, make_resource, make_step
from workflows.choices import ExecutionStatus, ResourceState, StepStatus
from workflows.models import Event, StepExecution, StepLog
from workflows.services import steprows


def kinds(**filters: Any) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("id").values_list("type", flat=True))


def test_every_state_change_is_an_event_of_the_owning_team(db: Any, developer: Any) -> None:
    app = make_application(developer, "shop")
    assert kinds(application="shop")[:1] == ["application.created"]
    assert "application.updated" in kinds(application="shop")  # the revision was set
    execution = make_execution(app, status=ExecutionStatus.PENDING)
    step = make_step(execution, "apply", status=StepStatus.PENDING)
    assert execution.start()
    assert step.transition(StepStatus.RUNNING)
    # A heartbeat is no state change: no event.
    StepExecution.objects.filter(pk=step.pk).update(lease_expires_at=timezone.now())
    assert step.transition(StepStatus.COMPLETED)
    assert execution.finish(ExecutionStatus.COMPLETED)
    assert kinds(execution=execution.id) == [
        "execution.created",
        "execution.started",
        "step.started",
        "step.succeeded",
        "execution.succeeded",
    ]
    succeeded = Event.objects.get(execution=execution.id, type="step.succeeded")
    assert (succeeded.team, succeeded.application, succeeded.step) == ("team-a", "shop", "apply")
    assert succeeded.data["status"] == "completed" and succeeded.data["previous"] == "running"


def test_the_step_hot_path_statements_report_too(db: Any, developer: Any) -> None:
    """The prebuilt statements of workflows/services/steprows.py (one WITH statement with the log lines)."""
    execution = make_execution(make_application(developer, "fast"), status=ExecutionStatus.RUNNING)
    step = make_step(execution, "s0", status=StepStatus.RUNNING)
    logs = [
        StepLog(execution=execution, step=step, seq=n, message=f"line {n}", stream="stdout") for n in (1, 2)
    ]
    changed = steprows.update_where(
        StepExecution,
        {"status": StepStatus.COMPLETED, "completed_at": timezone.now()},
        {"id": step.pk, "status": StepStatus.RUNNING},
        logs=logs,
    )
    assert changed == 1
    assert kinds(execution=execution.id)[-1] == "step.succeeded" or connection.vendor == "postgresql"
    batches = list(Event.objects.filter(execution=execution.id, type="step.log"))
    # PostgreSQL: one event per statement and step; SQLite (no statement triggers): one per line.
    assert len(batches) == (1 if connection.vendor == "postgresql" else 2)
    assert sum(batch.data["count"] for batch in batches) == 2
    assert {(batch.step, batch.team) for batch in batches} == {("s0", "team-a")}


def test_resources_and_deletion(db: Any, developer: Any) -> None:
    app = make_application(developer, "store")
    resource = make_resource(app, state=ResourceState.REQUESTED)
    assert resource.transition(ResourceState.PROVISIONING)
    assert resource.transition(ResourceState.ACTIVE)
    assert kinds(type__startswith="resource.") == [
        "resource.requested",
        "resource.provisioning",
        "resource.active",
    ]
    assert set(Event.objects.filter(type__startswith="resource.").values_list("team", flat=True)) == {
        "team-a"
    }
    resource.delete()
    app.delete()
    assert kinds(application="store")[-1] == "application.deleted"


def test_a_rolled_back_change_leaves_no_event(db: Any, developer: Any) -> None:
    execution = make_execution(make_application(developer, "undo"), status=ExecutionStatus.PENDING)
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        execution.start()
        raise RuntimeError("undo")
    assert Event.objects.count() == before
