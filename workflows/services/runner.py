"""Running steps: claim one under a lease, run its type, then record its result and claim its
successor in one transaction, and go on down the chain."""

import functools
import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from innominatus.logcontext import bind
from workflows import shutdown, signals
from workflows.choices import STEP_TRANSITIONS, ExecutionStatus, StepStatus, check_transition
from workflows.engine.model import StepDefinition, WorkflowDefinition
from workflows.engine.outputs import apply_step_outputs
from workflows.engine.templating import render_value
from workflows.models import StepExecution, StepLog, WorkflowExecution
from workflows.redaction import redact, redact_for_app
from workflows.services import leases, scheduler, steprows
from workflows.services.context import context_steps, execution_context, reread_steps
from workflows.services.leases import worker_identity
from workflows.services.monitor import Watch, companion
from workflows.services.namespaces import execution_owner
from workflows.services.resources import ExecutionResourceOps
from workflows.services.secrets import execution_secrets
from workflows.services.steplog import StepLogWriter
from workflows.steps.base import StepContext, StepResult, StepStopped, StepUser
from workflows.steps.isolation import resolve_step_user
from workflows.steps.registry import get_step

logger = logging.getLogger(__name__)

# Retries due sooner than this run again in the same worker instead of waiting for the reaper's tick.
INLINE_RETRY_MAX_DELAY = 5.0
# Back-off between tries to record a result while the database is unreachable (seconds, doubling).
RECORD_RETRY_FIRST = 0.25
RECORD_RETRY_MAX = 2.0
# What a database outage raises: the connection is gone, not the statement wrong.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


@dataclass
class Claimed:
    """A step this worker holds the lease of, with what running it needs already read."""

    step: StepExecution
    execution: WorkflowExecution
    definition: WorkflowDefinition
    # The execution's steps as read when this one was claimed: the template context's `steps`.
    steps: list[StepExecution]
    # Secret values the chain already read; None when they must be read again.
    secrets: list[str] | None = None


@dataclass
class Outcome:
    """How an attempt ended, before it is recorded."""

    status: str
    outputs: dict[str, Any]
    error: str = ""
    lease_lost: bool = False


@dataclass
class Recorded:
    """What recording an attempt decided: a successor already claimed here, others to queue, or a retry."""

    claimed: Claimed | None = None
    queued: list[int] = field(default_factory=list)
    retry_delay: float | None = None


def run_step_chain(step_id: int) -> None:
    """Run a step from a queue message, then each successor it hands over, so a chain needs no queue
    round trip and no separate claim: recording one step claims the next in the same transaction."""
    owner = worker_identity()
    claimed = _claim_from_queue(step_id, owner)
    while claimed is not None:
        claimed = _run(claimed, owner)


def _claim_from_queue(step_id: int, owner: str) -> Claimed | None:
    execution_id = leases.claim(step_id, owner)
    if execution_id is None:
        return None
    execution = WorkflowExecution.objects.select_related("revision", "application", "team").get(
        pk=execution_id
    )
    steps = context_steps(execution)
    step = next(row for row in steps if row.pk == step_id)
    return Claimed(step, execution, WorkflowDefinition.from_dict(execution.definition), steps)


def _run(claimed: Claimed, owner: str) -> Claimed | None:
    """Run one attempt of a claimed step; returns the successor this worker already claimed, if any."""
    step, execution = claimed.step, claimed.execution
    step_def = claimed.definition.step(step.name)
    # Only resource steps meet secret values, and only they can add new ones: the chain re-reads
    # the application's secrets for them and after them, and reuses what it read otherwise.
    uses_resources = get_step(step.step_type).uses_resources
    secrets = claimed.secrets if claimed.secrets is not None and not uses_resources else None
    if secrets is None:
        secrets = execution_secrets(execution)
    with bind(workflow_id=execution.id, app_name=execution.app_name, step=step.name):
        writer = StepLogWriter(
            execution_id=execution.id,
            step_id=step.pk,
            secrets=secrets,
            # A first attempt has no earlier lines of its own: numbering starts without a query.
            first_seq=1 if step.attempt == 1 else None,
        )
        watch = Watch(
            step_id=step.pk,
            execution_id=execution.id,
            owner=owner,
            lease_seconds=settings.STEP_LEASE_SECONDS,
            deadline=execution.deadline,
            writer=writer,
        )
        try:
            outcome = _attempt(claimed, step_def, owner, writer, watch)
            if outcome.error:
                # A resource step may have stored new secrets while it ran: the redaction reads them again.
                outcome.error = redact_for_app(
                    outcome.error, app_name=execution.app_name, secrets=writer.secrets
                )
            if outcome.status == StepStatus.FAILED and outcome.error:
                writer.system(f"attempt {step.attempt} failed: {outcome.error}", level="error")
            recorded = _record_durably(claimed, step_def, owner, outcome, writer, watch)
            # The pod's log gets the finish as well as the step's lines (StepLogWriter logs each one).
            logger.info("step %s %s (attempt %s)", step.name, outcome.status, step.attempt)
        finally:
            watch.release()
    if recorded.claimed is not None and not uses_resources:
        recorded.claimed.secrets = secrets
    scheduler.dispatch(recorded.queued)
    if (
        recorded.retry_delay is not None
        and recorded.retry_delay <= INLINE_RETRY_MAX_DELAY
        and not shutdown.requested()
    ):
        time.sleep(recorded.retry_delay)
        return _claim_from_queue(step.pk, owner)
    return recorded.claimed


def _attempt(
    claimed: Claimed, step_def: StepDefinition, owner: str, writer: StepLogWriter, watch: Watch
) -> Outcome:
    """Render the step's configuration and run it while the companion thread keeps the lease (and goes
    on keeping it, once the step is done, until the runner releases the watch)."""
    step, execution = claimed.step, claimed.execution
    writer.system(f"attempt {step.attempt} of {step.max_attempts} started on {owner}")
    context = execution_context(execution, claimed.steps)
    try:
        config = render_value(step_def.config, context)
        env = {key: str(value) for key, value in render_value(step_def.env, context).items()}
    except Exception as exc:
        return Outcome(StepStatus.FAILED, {}, f"configuration could not be rendered: {exc}")
    if config:
        StepExecution.objects.filter(pk=step.pk).update(config=config)
    ctx = StepContext(
        execution_id=execution.id,
        app_name=execution.app_name,
        step_name=step.name,
        step_type=step.step_type,
        config=config,
        env=env,
        workdir=settings.STEP_WORK_ROOT / execution.id,
        timeout=step_def.timeout,
        attempt=step.attempt,
        log=writer.write,
        check_stop=watch.check_stop,
        secrets=writer.secrets,
        app=context["app"],
        resources=context["resources"],
        resource_ops=ExecutionResourceOps(execution),
        owner=execution_owner(execution),
        step_id=step.pk,
        run_as=step_user(),
    )
    companion().watch(watch)
    try:
        result = get_step(step.step_type).run(ctx)
        outcome = Outcome(result.status, dict(result.outputs), result.error)
    except StepStopped as stop:
        outcome = _stopped_outcome(stop.reason)
    except Exception as exc:
        # A fault in our code or infrastructure, not an expected failure: keep the traceback.
        trace = traceback.format_exc()
        writer.system(trace, level="error")
        # The process log gets the traceback redacted like the step's own lines: it may quote a secret.
        logger.error("step raised an unexpected error", extra={"traceback": redact(trace, writer.secrets)})
        outcome = Outcome(StepStatus.FAILED, {}, f"internal error: {type(exc).__name__}: {exc}")
    finally:
        watch.finish()
    # The last lines are stored with the result, in the same statement where the database allows it.
    return outcome


def step_user() -> StepUser | None:
    """Who step processes run as (STEP_RUN_AS_USER; `nobody` for a worker running as root)."""
    return _resolved_step_user(settings.STEP_RUN_AS_USER)


@functools.cache
def _resolved_step_user(setting: str) -> StepUser | None:
    return resolve_step_user(setting)


def _record_durably(
    claimed: Claimed,
    step_def: StepDefinition,
    owner: str,
    outcome: Outcome,
    writer: StepLogWriter,
    watch: Watch,
) -> Recorded:
    """`_record`, tried again with back-off while the database is unreachable, for as long as the lease
    holds (the companion keeps renewing it meanwhile); then the attempt is given up to the reaper."""
    if shutdown.handing_back():
        # The outcome may be the hand-back's own kill of the step (it can start while a claim of this
        # process is not yet visible to the hand-back): the step is handed back or left to the reaper,
        # and this thread may not let the process end before the hand-back is stored.
        shutdown.wait_for_hand_back()
        return Recorded()
    delay = RECORD_RETRY_FIRST
    while True:
        try:
            return _record(claimed, step_def, owner, outcome, writer)
        except CONNECTION_ERRORS as exc:
            if connection.in_atomic_block:
                raise  # the caller's transaction is lost with the connection: only it can start over
            writer.undrain()
            connection.close()
            if watch.lease_remaining() <= delay:
                logger.error(
                    "the step's result could not be recorded before its lease ran out; leaving it to the reaper",
                    extra={"status": outcome.status, "error": str(exc)},
                )
                return Recorded()
            logger.warning(
                "recording the step's result failed; trying again",
                extra={"error": str(exc), "retry_in_seconds": delay},
            )
            time.sleep(delay)
            delay = min(delay * 2, RECORD_RETRY_MAX)


def record_evidence(step: StepExecution, result: StepResult, note: str) -> bool:
    """Record the result a dead worker's attempt left behind, as its worker would have: the caller (the
    reaper) takes the step over under its own lease first. Returns False when someone else moved it."""
    owner = worker_identity()
    lease = timezone.now() + timedelta(seconds=settings.STEP_LEASE_SECONDS)
    taken = StepExecution.objects.filter(
        pk=step.pk, status=StepStatus.RUNNING, lease_owner=step.lease_owner
    ).update(lease_owner=owner, lease_expires_at=lease)
    if not taken:
        return False
    execution = WorkflowExecution.objects.select_related("revision", "application").get(pk=step.execution_id)
    steps = context_steps(execution)
    mine = next(row for row in steps if row.pk == step.pk)
    claimed = Claimed(mine, execution, WorkflowDefinition.from_dict(execution.definition), steps)
    writer = StepLogWriter(execution_id=execution.id, step_id=step.pk)
    writer.system(note, level="warning")
    outcome = Outcome(result.status, dict(result.outputs), result.error)
    with bind(workflow_id=execution.id, app_name=execution.app_name, step=mine.name):
        recorded = _record(
            claimed, claimed.definition.step(mine.name), owner, outcome, writer, claim_successor=False
        )
    scheduler.dispatch(recorded.queued)
    return True


def _stopped_outcome(reason: str) -> Outcome:
    if reason == "cancelled":
        return Outcome(StepStatus.CANCELLED, {}, "cancelled while running")
    if reason.startswith("lease lost"):
        return Outcome(StepStatus.FAILED, {}, reason, lease_lost=True)
    return Outcome(StepStatus.FAILED, {}, reason)


class _Recording:
    """An attempt's result waiting to be stored: together with the claim of the successor the scheduler
    offers (one statement on PostgreSQL), or on its own when none is offered."""

    def __init__(self, update: tuple[dict[str, Any], dict[str, Any]], logs: list[StepLog], owner: str):
        self.update, self.logs, self.owner = update, logs, owner
        self.stored: bool | None = None

    def store_and_claim(self, successor: StepExecution, now: datetime) -> bool:
        claim = leases.ready_claim(successor, self.owner, now)
        stored, claimed = steprows.update_chain(StepExecution, [self.update, claim], logs=self.logs)
        self.stored = bool(stored)
        if claimed:
            leases.hold(successor, claim[0])
        return bool(claimed)

    def store(self) -> bool:
        if self.stored is None:
            self.stored = bool(steprows.update_where(StepExecution, *self.update, logs=self.logs))
        return self.stored


def _record(
    claimed: Claimed,
    step_def: StepDefinition,
    owner: str,
    outcome: Outcome,
    writer: StepLogWriter,
    *,
    claim_successor: bool = True,
) -> Recorded:
    """Store the attempt's result and advance the execution in one transaction under its row lock;
    the first successor that became ready is claimed for this worker in the same transaction (in the
    statement that stores the result, on PostgreSQL), unless `claim_successor` is off (all are queued)."""
    step = claimed.step
    if outcome.lease_lost:
        writer.flush()
        return Recorded()
    recorded = Recorded()
    execution = claimed.execution
    lost: list[StepLog] | None = None
    with transaction.atomic():
        # Of the execution only its status and variables move while it runs; the rest was read already.
        locked = steprows.lock_execution(execution.pk)
        if locked is None:  # deleted while the step ran
            return Recorded()
        execution.status, execution.variables = locked.status, locked.variables
        steps = reread_steps(execution, claimed.steps, locked.heads)
        mine = {"id": step.pk, "status": StepStatus.RUNNING, "lease_owner": owner}
        now = timezone.now()
        status, outputs, error = outcome.status, outcome.outputs, outcome.error
        if status == StepStatus.COMPLETED:
            try:
                templated = step_def.set_variables or any(t is not None for t in step_def.outputs.values())
                context = execution_context(execution, steps) if templated else {}
                outputs, new_variables = apply_step_outputs(step_def, outputs, context)
            except Exception as exc:
                status = StepStatus.FAILED
                error = redact_for_app(f"outputs could not be applied: {exc}", app_name=execution.app_name)
            else:
                if new_variables:
                    execution.variables = {**(execution.variables or {}), **new_variables}
                    WorkflowExecution.objects.filter(pk=execution.pk).update(variables=execution.variables)
        if execution.status == ExecutionStatus.CANCELLED:
            status = StepStatus.CANCELLED
        if status == StepStatus.FAILED and step.attempt < step.max_attempts:
            recorded.retry_delay = step_def.retries.delay_for(step.attempt)
            check_transition(STEP_TRANSITIONS, "step", StepStatus.RUNNING, StepStatus.PENDING)
            retry = {
                "status": StepStatus.PENDING,
                "error_message": error[:10000],
                "next_attempt_at": now + timedelta(seconds=recorded.retry_delay),
                "lease_owner": "",
                "lease_expires_at": None,
                "dispatched_at": now,
            }
            writer.system(f"retrying in {recorded.retry_delay:g}s")
            moved = steprows.update_where(StepExecution, retry, mine, logs=writer.drain())
            if not moved:
                return Recorded()
        else:
            check_transition(STEP_TRANSITIONS, "step", StepStatus.RUNNING, status)
            finished = {
                "status": status,
                "outputs": outputs if status == StepStatus.COMPLETED else {},
                "error_message": error[:10000],
                "completed_at": now,
                "lease_owner": "",
                "lease_expires_at": None,
            }
            # The scheduler decides on the steps in memory, this one as it is about to be stored.
            leases.hold(next(row for row in steps if row.pk == step.pk), finished)
            # The attempt's last log lines are stored with its result.
            recording = _Recording((finished, mine), writer.drain(), owner)
            ready = scheduler.advance(
                execution.pk,
                locked=execution,
                steps=steps,
                definition=claimed.definition,
                # A stopping worker hands successors to the queue instead of starting them here.
                claim=recording.store_and_claim if claim_successor and not shutdown.requested() else None,
            )
            if not recording.store():
                # Another worker or the reaper took the step over: nothing decided on its result stands.
                transaction.set_rollback(True)
                lost = recording.logs
            else:
                recorded.queued = ready.queued
                if ready.claimed is not None:
                    recorded.claimed = Claimed(ready.claimed, execution, claimed.definition, steps)
    if lost is not None:
        steprows.insert_logs(lost)  # the attempt's own lines are kept, whoever holds the step now
        return Recorded()
    if recorded.retry_delay is None:
        duration = (now - step.started_at).total_seconds() if step.started_at else None
        signals.step_finished.send(sender=StepExecution, step=step, status=status, duration=duration)
    return recorded
