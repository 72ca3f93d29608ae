"""How a worker runs a chain of steps: the successor is claimed while the predecessor is recorded, only
moved steps are read again, per-step statements stay constant, and one companion thread serves them all.

django-q2 runs in sync mode (Q_SYNC=true): a launched execution runs inline once its transaction commits.
"""

import itertools
import threading
import time
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_prometheus.db.metrics import errors_total, execute_total

from workflows.choices import ExecutionStatus, StepStatus
from workflows.engine.loader import load_workflow
from workflows.models import StepExecution, StepLog, WorkflowExecution
from workflows.services import executions, leases, runner, scheduler, steprows
from workflows.services.context import context_steps, reread_steps
from workflows.services.monitor import Watch, companion
from workflows.services.steplog import StepLogWriter
from workflows.steps.base import StepContext, StepResult
from workflows.steps.noop import NoopStep
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.django_db(transaction=True)


def chain(steps: int, *, step_type: str = "noop") -> str:
    return "metadata: {name: chain}\nsteps:\n" + "".join(
        f"  - {{name: s{i}, type: {step_type}}}\n" for i in range(steps)
    )


def launch(text: str) -> WorkflowExecution:
    definition = load_workflow(text, known_step_types=known_step_types())
    execution = executions.launch_execution(definition=definition, app_name="demo")
    execution.refresh_from_db()
    return execution


def statements_to_run(text: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        execution = launch(text)
    assert execution.status == ExecutionStatus.COMPLETED, execution.error_message
    return len(captured.captured_queries)


def test_each_further_step_of_a_chain_costs_the_same_few_statements() -> None:
    launch(chain(1))  # warm caches (step registry, prebuilt statements)
    # Least of three: the worker's maintenance-window probe (cached for a few seconds) adds a statement
    # to whichever run it expires in.
    short = min(statements_to_run(chain(5)) for _ in range(3))
    long = min(statements_to_run(chain(15)) for _ in range(3))
    per_step = (long - short) / 10
    # BEGIN, lock, step heads, record with the claim of the successor (and the log lines) in one
    # statement on PostgreSQL, COMMIT.
    assert per_step == (5 if connection.vendor == "postgresql" else 7), (short, long)


def test_successors_are_claimed_in_the_recording_transaction_not_queued(monkeypatch: Any) -> None:
    queued: list[int] = []
    original = scheduler.dispatch

    def spy(step_ids: list[int]) -> None:
        queued.extend(step_ids)
        original(step_ids)

    monkeypatch.setattr(scheduler, "dispatch", spy)
    execution = launch(chain(4))
    assert execution.status == ExecutionStatus.COMPLETED
    rows = list(execution.steps.order_by("position"))
    # Only the first step travels through the queue; the worker that records a step runs the next.
    assert queued == [rows[0].pk]
    for before, after in itertools.pairwise(rows):
        assert after.started_at == after.dispatched_at
        assert after.started_at >= before.completed_at
        assert after.attempt == 1 and after.lease_owner == ""


def test_a_parallel_fan_out_runs_one_branch_here_and_queues_the_others() -> None:
    execution = launch(
        """
metadata: {name: fan}
steps:
  - {name: start, type: noop}
  - {name: a, type: noop, dependsOn: [start]}
  - {name: b, type: noop, dependsOn: [start]}
  - {name: c, type: noop, dependsOn: [start]}
  - {name: join, type: noop, dependsOn: [a, b, c]}
"""
    )
    assert execution.status == ExecutionStatus.COMPLETED, execution.error_message
    assert set(execution.steps.values_list("status", flat=True)) == {StepStatus.COMPLETED}


def test_reread_keeps_unchanged_steps_and_reads_moved_ones_again() -> None:
    execution = launch(
        "metadata: {name: gate}\nsteps: [{name: a, type: noop}, {name: gate, type: noop, when: manual}]"
    )
    assert execution.status == ExecutionStatus.WAITING
    known = context_steps(execution)
    by_name = {step.name: step for step in known}
    with transaction.atomic():
        locked = steprows.lock_execution(execution.pk)
        assert locked is not None and locked.status == ExecutionStatus.WAITING
        assert reread_steps(execution, known, locked.heads) is known
    # Someone else moves a step (an approval here): only that step is read again.
    StepExecution.objects.filter(pk=by_name["gate"].pk).update(
        status=StepStatus.PENDING, decided_at=timezone.now()
    )
    with transaction.atomic():
        locked = steprows.lock_execution(execution.pk)
        assert locked is not None
        fresh = reread_steps(execution, known, locked.heads)
    assert [step.name for step in fresh] == ["a", "gate"]
    assert fresh[0] is by_name["a"]
    assert fresh[1] is not by_name["gate"] and fresh[1].status == StepStatus.PENDING
    assert steprows.lock_execution("wf-000000000000") is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks and READ COMMITTED snapshots")
def test_a_recorder_that_waited_for_the_lock_reads_what_the_holder_committed() -> None:
    """Two parallel steps recorded together: the second recorder must see the first one's result, or
    neither would start the step that joins them."""
    execution = launch(
        "metadata: {name: gate}\nsteps: [{name: a, type: noop}, {name: gate, type: noop, when: manual}]"
    )
    gate = execution.steps.get(name="gate")
    holding, release = threading.Event(), threading.Event()
    seen: list[Any] = []

    def holder() -> None:
        try:
            with transaction.atomic():
                steprows.lock_execution(execution.pk)
                StepExecution.objects.filter(pk=gate.pk).update(status=StepStatus.SKIPPED)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def waiter() -> None:
        try:
            with transaction.atomic():
                seen.append(steprows.lock_execution(execution.pk))
        finally:
            connection.close()

    first = threading.Thread(target=holder)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=waiter)
    second.start()
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:  # until the waiter is blocked on the row lock
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                break
            time.sleep(0.02)
    release.set()
    first.join(10)
    second.join(10)
    heads = {pk: status for pk, status, *_ in seen[0].heads}
    assert heads[gate.pk] == StepStatus.SKIPPED


def test_prebuilt_statements_store_values_like_the_orm() -> None:
    execution = launch(chain(1))
    step = execution.steps.get()
    now = timezone.now()
    changed = steprows.update_where(
        StepExecution,
        {"outputs": {"k": ["v", 1]}, "completed_at": now, "error_message": "it's 'quoted'; -- not SQL"},
        {"id": step.pk, "status": StepStatus.COMPLETED},
    )
    assert changed == 1
    # Log lines given with an update are stored whether or not a row matched.
    line = StepLog(
        execution_id=execution.pk, step_id=step.pk, seq=99, message="with the update", created_at=now
    )
    assert (
        steprows.update_where(
            StepExecution, {"error_message": "x"}, {"id": step.pk, "status": "running"}, logs=[line]
        )
        == 0
    )
    assert StepLog.objects.filter(step=step, seq=99, message="with the update").exists()
    step.refresh_from_db()
    assert step.outputs == {"k": ["v", 1]}
    assert step.completed_at == now
    assert step.error_message == "it's 'quoted'; -- not SQL"
    lines = [
        StepLog(
            execution_id=execution.pk,
            step_id=step.pk,
            seq=100 + i,
            message=f"line {i} \u2713",
            created_at=now,
        )
        for i in range(10_000)  # more than one statement's worth of parameters on every database
    ]
    steprows.insert_logs(lines)
    stored = list(
        StepLog.objects.filter(step=step, seq__gte=100).order_by("seq").values_list("message", flat=True)
    )
    assert stored == [f"line {i} \u2713" for i in range(10_000)]


def test_a_result_whose_lease_was_taken_over_is_not_stored_and_decides_nothing(monkeypatch: Any) -> None:
    """The reaper (or another worker) took the step while it ran: the late result must not be stored, nor
    start the next step, nor finish the workflow; the attempt's own log lines are still kept."""
    noop = runner.get_step("noop")

    class TakenOver(NoopStep):
        def run(self, ctx: StepContext) -> StepResult:
            if ctx.step_name == "s1":
                ctx.log("working on s1")
                StepExecution.objects.filter(execution_id=ctx.execution_id, name="s1").update(
                    lease_owner="someone-else"
                )
            return noop.run(ctx)

    monkeypatch.setattr(runner, "get_step", lambda step_type: TakenOver())
    execution = launch(chain(3))
    rows = {step.name: step for step in execution.steps.all()}
    assert rows["s0"].status == StepStatus.COMPLETED
    assert rows["s1"].status == StepStatus.RUNNING and rows["s1"].lease_owner == "someone-else"
    assert rows["s2"].status == StepStatus.PENDING and rows["s2"].attempt == 0
    assert rows["s2"].dispatched_at is None
    assert execution.status == ExecutionStatus.RUNNING
    lines = StepLog.objects.filter(step=rows["s1"]).values_list("message", flat=True)
    assert "working on s1" in lines
    # As the last step, its result would have finished the workflow.
    execution = launch(chain(2))
    assert execution.status == ExecutionStatus.RUNNING
    assert execution.steps.get(name="s1").status == StepStatus.RUNNING


def test_a_queue_message_takes_its_step_only_while_pending_due_and_its_execution_active() -> None:
    execution = launch(
        "metadata: {name: gate}\nsteps: [{name: a, type: noop}, {name: gate, type: noop, when: manual}]"
    )
    gate = execution.steps.get(name="gate")
    later = timezone.now() + timedelta(minutes=1)
    StepExecution.objects.filter(pk=gate.pk).update(status=StepStatus.PENDING, next_attempt_at=later)
    assert leases.claim(gate.pk, "me") is None  # a retry not yet due
    StepExecution.objects.filter(pk=gate.pk).update(next_attempt_at=None)
    assert leases.claim(gate.pk, "me") == execution.pk
    gate.refresh_from_db()
    assert (gate.status, gate.lease_owner, gate.attempt) == (StepStatus.RUNNING, "me", 1)
    assert gate.lease_expires_at is not None and gate.started_at is not None
    assert leases.claim(gate.pk, "other") is None  # no longer pending
    StepExecution.objects.filter(pk=gate.pk).update(status=StepStatus.PENDING)
    WorkflowExecution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.CANCELLED)
    assert leases.claim(gate.pk, "other") is None  # its execution is over
    assert leases.claim(999_999_999, "other") is None


def _sample(counter: Any, **labels: str) -> float:
    return float(counter.labels(**labels)._value.get())


def test_prebuilt_statements_are_counted_and_raise_the_orms_errors() -> None:
    execution = launch(chain(1))
    step = execution.steps.get()
    labels = {"alias": connection.alias, "vendor": connection.vendor}
    executed = _sample(execute_total, **labels)
    steprows.update_where(StepExecution, {"error_message": "x"}, {"id": step.pk})
    assert _sample(execute_total, **labels) > executed
    with pytest.raises(IntegrityError), transaction.atomic():
        steprows.update_where(StepExecution, {"attempt": -1}, {"id": step.pk})  # violates attempt >= 0
    if connection.vendor == "postgresql":
        assert _sample(errors_total, **labels, type="CheckViolation") >= 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
def test_prebuilt_statements_replace_a_connection_the_database_dropped() -> None:
    execution = launch(chain(1))
    step = execution.steps.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"]
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    close_old_connections()  # a task's end: the next statement checks the connection first
    assert steprows.update_where(StepExecution, {"error_message": "after"}, {"id": step.pk}) == 1


class SlowWriter(StepLogWriter):
    """A writer whose flush takes a while, to catch a release that does not wait for a tick."""

    def __init__(self) -> None:
        super().__init__(execution_id="wf-x", step_id=None)
        self.flushing = threading.Event()
        self.flushed = threading.Event()

    def flush(self) -> int:
        self.flushing.set()
        time.sleep(0.3)
        self.flushed.set()
        return 0


def test_one_companion_serves_every_step_of_a_thread_and_release_waits_for_its_tick() -> None:
    first = companion()
    assert companion() is first and first.is_alive()
    writer = SlowWriter()
    watch = first.watch(
        Watch(step_id=0, execution_id="wf-x", owner="me", lease_seconds=30, deadline=None, writer=writer)
    )
    assert writer.flushing.wait(5), "the companion never ticked"
    watch.release()
    assert writer.flushed.is_set(), "release returned while a tick was still flushing"
    # Released: no further ticks, and the same companion takes the next attempt.
    writer.flushing.clear()
    time.sleep(0.5)
    assert not writer.flushing.is_set()
    assert companion() is first

    other: list[Any] = []
    thread = threading.Thread(target=lambda: other.append(companion()))
    thread.start()
    thread.join()
    assert other[0] is not first


def test_long_steps_stream_their_log_and_keep_their_lease_through_the_companion() -> None:
    execution = launch(
        "metadata: {name: slow}\nsteps:\n"
        "  - {name: a, type: script, script: 'echo first; sleep 1.2; echo second'}\n"
        "  - {name: b, type: script, script: 'echo third'}\n"
    )
    assert execution.status == ExecutionStatus.COMPLETED, execution.error_message
    messages = list(
        StepLog.objects.filter(execution=execution).order_by("id").values_list("message", flat=True)
    )
    assert [m for m in messages if m in {"first", "second", "third"}] == ["first", "second", "third"]
