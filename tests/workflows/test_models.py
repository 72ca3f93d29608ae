"""State machines of executions, steps and resources: the tables are enforced and races are safe."""

from itertools import product
from typing import Any

import pytest

from tests.workflows.api.factories import make_application, make_execution, make_resource, make_step
from workflows.choices import (
    EXECUTION_TERMINAL_STATUSES,
    EXECUTION_TRANSITIONS,
    RESOURCE_TRANSITIONS,
    STEP_TRANSITIONS,
    ExecutionStatus,
    InvalidTransition,
    ResourceState,
    StepStatus,
)
from workflows.models import ResourceInstance, ResourceStateTransition, StepExecution, WorkflowExecution

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(developer: Any) -> Any:
    return make_application(developer)


def test_every_allowed_execution_transition_moves(app: Any) -> None:
    for current, targets in EXECUTION_TRANSITIONS.items():
        for target in targets:
            execution = make_execution(app, status=current)
            assert execution.transition(target, error="why" if target == ExecutionStatus.FAILED else "")
            stored = WorkflowExecution.objects.get(pk=execution.pk)
            assert stored.status == target
            if target in EXECUTION_TERMINAL_STATUSES:
                assert stored.completed_at is not None
                assert stored.started_at is not None
            if target == ExecutionStatus.FAILED:
                assert stored.error_message == "why"


def test_every_illegal_execution_transition_raises(app: Any) -> None:
    execution = make_execution(app)
    for current, target in product(ExecutionStatus.values, repeat=2):
        if target in EXECUTION_TRANSITIONS[current]:
            continue
        execution.status = current
        with pytest.raises(InvalidTransition) as raised:
            execution.transition(target)
        assert (raised.value.current, raised.value.target) == (current, target)


def test_execution_start_sets_started_at_once(app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.PENDING)
    assert execution.started_at is None
    assert execution.start()
    started = execution.started_at
    assert started is not None
    assert execution.transition(ExecutionStatus.WAITING)
    assert execution.transition(ExecutionStatus.RUNNING)
    assert WorkflowExecution.objects.get(pk=execution.pk).started_at == started
    assert execution.cancel("operator said so")
    assert WorkflowExecution.objects.get(pk=execution.pk).error_message == "operator said so"


def test_stale_execution_loses_the_race(app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    stale = WorkflowExecution.objects.get(pk=execution.pk)
    assert execution.finish(ExecutionStatus.COMPLETED)
    assert stale.cancel("too late") is False
    assert stale.status == ExecutionStatus.COMPLETED  # re-read after losing
    assert WorkflowExecution.objects.get(pk=execution.pk).error_message == ""


def test_every_allowed_step_transition_moves(app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    index = 0
    for current, targets in STEP_TRANSITIONS.items():
        for target in targets:
            step = make_step(execution, f"s{index}", position=index, status=current)
            index += 1
            assert step.transition(target)
            assert StepExecution.objects.get(pk=step.pk).status == target


def test_every_illegal_step_transition_raises(app: Any) -> None:
    step = make_step(make_execution(app))
    for current, target in product(StepStatus.values, repeat=2):
        if target in STEP_TRANSITIONS[current]:
            continue
        step.status = current
        with pytest.raises(InvalidTransition):
            step.transition(target)


def test_terminal_step_releases_its_lease(app: Any) -> None:
    step = make_step(make_execution(app), status=StepStatus.PENDING)
    assert step.transition(StepStatus.RUNNING, lease_owner="worker-1")
    assert StepExecution.objects.get(pk=step.pk).lease_owner == "worker-1"
    assert step.transition(StepStatus.COMPLETED)
    stored = StepExecution.objects.get(pk=step.pk)
    assert (stored.lease_owner, stored.lease_expires_at) == ("", None)
    assert stored.started_at is not None
    assert stored.completed_at is not None


def test_stale_step_claim_returns_false(app: Any) -> None:
    step = make_step(make_execution(app), status=StepStatus.PENDING)
    rival = StepExecution.objects.get(pk=step.pk)
    assert step.transition(StepStatus.RUNNING, lease_owner="worker-1")
    assert rival.transition(StepStatus.RUNNING, lease_owner="worker-2") is False
    assert StepExecution.objects.get(pk=step.pk).lease_owner == "worker-1"


def test_every_allowed_resource_transition_moves_and_is_recorded(app: Any) -> None:
    index = 0
    for current, targets in RESOURCE_TRANSITIONS.items():
        for target in targets:
            resource = make_resource(app, f"res-{index}", state=current)
            index += 1
            assert resource.transition(target, reason="because", actor="engine", execution_id="wf-abc")
            assert ResourceInstance.objects.get(pk=resource.pk).state == target
            record = ResourceStateTransition.objects.get(resource=resource)
            assert (record.from_state, record.to_state) == (current, target)
            assert (record.reason, record.actor, record.execution_id) == ("because", "engine", "wf-abc")


def test_every_illegal_resource_transition_raises_and_records_nothing(app: Any) -> None:
    resource = make_resource(app)
    for current, target in product(ResourceState.values, repeat=2):
        if target in RESOURCE_TRANSITIONS[current]:
            continue
        resource.state = current
        with pytest.raises(InvalidTransition):
            resource.transition(target)
    assert not ResourceStateTransition.objects.exists()


def test_stale_resource_records_only_the_winner(app: Any) -> None:
    resource = make_resource(app, state=ResourceState.ACTIVE)
    stale = ResourceInstance.objects.get(pk=resource.pk)
    assert resource.transition(ResourceState.UPDATING)
    assert stale.transition(ResourceState.TERMINATING) is False
    assert stale.state == ResourceState.UPDATING
    assert list(ResourceStateTransition.objects.values_list("to_state", flat=True)) == ["updating"]


def test_failed_resource_keeps_its_reason_and_recovery_clears_it(app: Any) -> None:
    resource = make_resource(app, state=ResourceState.PROVISIONING)
    assert resource.transition(ResourceState.FAILED, reason="quota exceeded")
    assert ResourceInstance.objects.get(pk=resource.pk).error_message == "quota exceeded"
    assert resource.transition(ResourceState.PROVISIONING)
    assert ResourceInstance.objects.get(pk=resource.pk).error_message == ""
    history = list(
        ResourceStateTransition.objects.filter(resource=resource).values_list("from_state", "to_state")
    )
    assert history == [("provisioning", "failed"), ("failed", "provisioning")]


def test_execution_ids_have_the_documented_form(app: Any) -> None:
    execution = make_execution(app)
    assert execution.id.startswith("wf-")
    assert len(execution.id) == 15
