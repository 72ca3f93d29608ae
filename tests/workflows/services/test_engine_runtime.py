"""The DB-backed engine: launching, running, retrying, approving, cancelling and recovering executions.

django-q2 runs in sync mode here (Q_SYNC=true), so a launched execution runs to completion inline
once its transaction commits; real worker processes are exercised in tests/e2e.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.errors import WorkflowValidationError
from workflows.engine.loader import load_workflow
from workflows.models import StepExecution, StepLog, WorkflowExecution
from workflows.services import executions, reaper
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.django_db(transaction=True)


def launch(yaml_text: str, parameters: dict[str, Any] | None = None, **kwargs: Any) -> WorkflowExecution:
    definition = load_workflow(yaml_text, known_step_types=known_step_types())
    execution = executions.launch_execution(
        definition=definition, app_name="demo", parameters=parameters or {}, **kwargs
    )
    execution.refresh_from_db()
    return execution


def steps_of(execution: WorkflowExecution) -> dict[str, StepExecution]:
    return {step.name: step for step in execution.steps.all()}


def test_sequential_workflow_passes_outputs_and_variables() -> None:
    execution = launch(
        """
metadata: {name: pipeline}
parameters:
  - {name: greeting, type: string, default: hello}
variables: {target: world}
steps:
  - name: produce
    type: script
    script: |
      echo "making output"
      echo "::set-output name=word::$GREETING"
    env: {GREETING: "{{ parameters.greeting }}"}
    setVariables: {said: "{{ outputs.word }}"}
  - name: consume
    type: noop
    config:
      outputs: {combined: "{{ steps.produce.outputs.word }} {{ variables.target }} {{ variables.said }}"}
outputs:
  result: "{{ steps.consume.outputs.combined }}"
"""
    )
    assert execution.status == ExecutionStatus.COMPLETED, execution.error_message
    assert execution.outputs == {"result": "hello world hello"}
    steps = steps_of(execution)
    assert steps["produce"].outputs == {"word": "hello"}
    assert [s.status for s in steps.values()] == [StepStatus.COMPLETED, StepStatus.COMPLETED]
    lines = list(StepLog.objects.filter(step=steps["produce"]).values_list("message", flat=True))
    assert "making output" in lines
    assert execution.started_at and execution.completed_at


def test_failure_skips_dependents_and_runs_on_failure_and_always_steps() -> None:
    execution = launch(
        """
metadata: {name: failing}
steps:
  - {name: breaks, type: script, script: "echo about to fail >&2; exit 3"}
  - {name: never, type: noop}
  - {name: cleanup, type: noop, when: on_failure}
  - {name: report, type: noop, when: always}
"""
    )
    steps = steps_of(execution)
    assert execution.status == ExecutionStatus.FAILED
    assert "breaks" in execution.error_message
    assert steps["breaks"].status == StepStatus.FAILED
    assert steps["never"].status == StepStatus.SKIPPED
    assert "breaks" in steps["never"].skip_reason
    assert steps["cleanup"].status == StepStatus.COMPLETED
    assert steps["report"].status == StepStatus.COMPLETED


def test_retries_until_success_with_attempts_recorded(tmp_path: Any) -> None:
    marker = tmp_path / "count"
    execution = launch(
        f"""
metadata: {{name: flaky}}
steps:
  - name: flaky
    type: script
    retries: {{limit: 2, backoff: 0.1}}
    script: |
      n=$(cat {marker} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {marker}
      [ "$n" -ge 3 ]
"""
    )
    step = steps_of(execution)["flaky"]
    assert execution.status == ExecutionStatus.COMPLETED
    assert step.attempt == 3
    assert marker.read_text().strip() == "3"


def test_condition_skips_with_reason() -> None:
    execution = launch(
        """
metadata: {name: conditional}
parameters: [{name: env, type: enum, allowed_values: [dev, prod], default: dev}]
steps:
  - {name: prod-only, type: noop, if: "parameters.env == 'prod'"}
  - {name: always-on, type: noop}
""",
        {"env": "dev"},
    )
    steps = steps_of(execution)
    assert execution.status == ExecutionStatus.COMPLETED
    assert steps["prod-only"].status == StepStatus.SKIPPED
    assert "parameters.env == 'prod'" in steps["prod-only"].skip_reason


def test_bad_parameters_are_refused_before_anything_is_stored() -> None:
    with pytest.raises(WorkflowValidationError) as caught:
        launch(
            """
metadata: {name: typed}
parameters: [{name: replicas, type: int, minimum: 1, maximum: 5}]
steps: [{name: a, type: noop}]
""",
            {"replicas": "nine"},
        )
    assert any("replicas" in problem.path for problem in caught.value.problems)
    assert WorkflowExecution.objects.count() == 0


def test_manual_gate_waits_then_runs_after_approval(developer: Any) -> None:
    execution = launch(
        """
metadata: {name: gated}
steps:
  - {name: build, type: noop}
  - {name: ship, type: noop, when: manual}
  - {name: announce, type: noop}
"""
    )
    assert execution.status == ExecutionStatus.WAITING
    assert steps_of(execution)["ship"].status == StepStatus.WAITING
    executions.approve_step(execution=execution, user=developer, comment="looks good")
    execution.refresh_from_db()
    steps = steps_of(execution)
    assert execution.status == ExecutionStatus.COMPLETED
    assert steps["ship"].decided_by == developer
    assert steps["ship"].decision_comment == "looks good"
    assert steps["announce"].status == StepStatus.COMPLETED


def test_rejection_fails_the_workflow(developer: Any) -> None:
    execution = launch(
        """
metadata: {name: gated}
steps:
  - {name: gate, type: approval}
  - {name: after, type: noop}
"""
    )
    assert execution.status == ExecutionStatus.WAITING
    executions.reject_step(execution=execution, user=developer, comment="not today")
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert "not today" in execution.error_message
    assert steps_of(execution)["after"].status == StepStatus.SKIPPED


def test_cancel_of_a_waiting_execution_cancels_its_steps(developer: Any) -> None:
    execution = launch(
        """
metadata: {name: gated}
steps:
  - {name: gate, type: approval}
  - {name: after, type: noop}
"""
    )
    executions.cancel_execution(execution=execution, user=developer, reason="changed my mind")
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.CANCELLED
    assert {s.status for s in steps_of(execution).values()} == {StepStatus.CANCELLED}
    with pytest.raises(executions.ActionNotAllowed):
        executions.cancel_execution(execution=execution, user=developer)


def test_retry_resumes_from_the_failed_step_and_reuses_outputs(tmp_path: Any, developer: Any) -> None:
    flag = tmp_path / "ok"
    execution = launch(
        f"""
metadata: {{name: resumable}}
steps:
  - name: first
    type: script
    script: 'echo run >> {tmp_path}/first-runs; echo "::set-output name=token::abc"'
  - name: second
    type: script
    script: 'test -f {flag}; echo "::set-output name=seen::{{{{ steps.first.outputs.token }}}}"'
"""
    )
    assert execution.status == ExecutionStatus.FAILED
    flag.write_text("now it works")
    retry = executions.retry_execution(execution=execution, user=developer)
    retry.refresh_from_db()
    assert retry.parent_id == execution.pk
    assert retry.status == ExecutionStatus.COMPLETED, retry.error_message
    steps = steps_of(retry)
    assert steps["first"].outputs == {"token": "abc"}
    assert steps["second"].outputs == {"seen": "abc"}
    assert (tmp_path / "first-runs").read_text().count("run") == 1


def test_step_timeout_fails_the_step() -> None:
    execution = launch(
        """
metadata: {name: slow}
steps:
  - {name: slow, type: script, timeout: 1s, script: "sleep 30"}
"""
    )
    step = steps_of(execution)["slow"]
    assert execution.status == ExecutionStatus.FAILED
    assert "timed out" in step.error_message
    assert step.duration_seconds is not None and step.duration_seconds < 15


def test_reaper_retries_or_fails_steps_whose_lease_expired() -> None:
    execution = launch(
        """
metadata: {name: gated}
steps:
  - {name: gate, type: approval}
"""
    )
    past = timezone.now() - timedelta(minutes=5)
    wf = WorkflowExecution.objects.create(
        app_name="demo", workflow_name="ghost", definition=execution.definition
    )
    wf.start()
    ghost = StepExecution.objects.create(
        execution=wf,
        name="gate",
        step_type="approval",
        position=0,
        status=StepStatus.RUNNING,
        attempt=1,
        max_attempts=1,
        lease_owner="dead-host:1:1",
        lease_expires_at=past,
        started_at=past,
    )
    report = reaper.reap()
    ghost.refresh_from_db()
    wf.refresh_from_db()
    assert f"{wf.pk}/gate" in report.failed
    assert ghost.status == StepStatus.FAILED
    assert "dead-host:1:1" in ghost.error_message and "no retries left" in ghost.error_message
    assert wf.status == ExecutionStatus.FAILED
    assert StepLog.objects.filter(step=ghost, message__contains="stopped heartbeating").exists()


CONCURRENT = """
metadata: {name: serial-deploy, concurrency: application}
steps:
  - {name: gate, type: approval}
  - {name: done, type: noop}
"""


def test_concurrency_group_runs_one_execution_per_application_at_a_time(developer: Any) -> None:
    first = launch(CONCURRENT)
    second = launch(CONCURRENT)
    other_app = executions.launch_execution(
        definition=load_workflow(CONCURRENT, known_step_types=known_step_types()), app_name="elsewhere"
    )
    other_app.refresh_from_db()
    assert first.status == ExecutionStatus.WAITING
    assert second.status == ExecutionStatus.PENDING, "the second run of the group must queue"
    assert other_app.status == ExecutionStatus.WAITING, "another application is not held up"
    executions.approve_step(execution=first, user=developer)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ExecutionStatus.COMPLETED
    assert second.status == ExecutionStatus.WAITING, "the queued run starts when the first ends"
    executions.cancel_execution(execution=second, user=developer)
    third = launch(CONCURRENT)
    assert third.status == ExecutionStatus.WAITING
