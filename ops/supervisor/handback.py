"""Giving work back on shutdown: unstarted queue messages, and steps still running at the drain deadline."""

import logging
import os
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django_q.brokers import Broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

from ops.supervisor import osproc
from workflows import shutdown
from workflows.choices import StepStatus
from workflows.models import StepExecution
from workflows.services.handback import hand_back_steps
from workflows.services.leases import worker_identity
from workflows.services.scheduler import RUN_STEP_TASK

logger = logging.getLogger(__name__)


def return_message(broker: Broker, ack_id: Any, payload: str) -> None:
    """Make a message this process took, and did not start, claimable again at once."""
    if isinstance(broker, ORM):
        OrmQ.objects.using(Conf.ORM).filter(pk=ack_id).update(lock=timezone.now())
        return
    broker.enqueue(payload)
    broker.acknowledge(ack_id)


def drop_message(broker: Broker, ack_id: str) -> None:
    """Acknowledge the message a dead worker process held: q2 runs a message at most once
    (max_attempts 1); the reaper recovers the step or execution it was about."""
    broker.acknowledge(int(ack_id) if isinstance(broker, ORM) else ack_id)


def settle_message(broker: Broker, ack_id: Any, payload: str, func: str, *, handed: bool) -> None:
    """The message of a task abandoned at the drain deadline: a step message whose step was handed back is
    dropped (the hand-back queued a new one); any other goes back to the queue to run again in full."""
    try:
        if func == RUN_STEP_TASK and handed:
            broker.acknowledge(ack_id)
        else:
            return_message(broker, ack_id, payload)
    except Exception:
        logger.warning("could not settle the abandoned task's message", exc_info=True)


def owner_prefix() -> str:
    """The start of every lease owner this process writes (host:pid:, the thread follows)."""
    return worker_identity().rsplit(":", 1)[0] + ":"


def steps_started_since(moment: float) -> bool:
    """Whether this process started a step at or after `moment` (a Unix time)."""
    since = datetime.fromtimestamp(moment, tz=UTC)
    return StepExecution.objects.filter(
        status=StepStatus.RUNNING, lease_owner__startswith=owner_prefix(), started_at__gte=since
    ).exists()


def hand_back(reason: str) -> list[int]:
    """Kill this process' step processes and hand its running steps back to the queue."""
    return hand_back_steps(
        owner_prefix=owner_prefix(),
        reason=reason,
        stop_processes=lambda: osproc.kill_all(osproc.descendants(os.getpid())),
    )


def hand_back_and_exit(reason: str, message: tuple[Broker, Any, str, str] | None) -> None:
    """Hand back this process' steps, settle the message of the task it abandons (`message`: broker,
    ack id, payload, function), and end the process at once."""
    handed: list[int] = []
    try:
        handed = hand_back(reason)
        logger.warning("handed back running steps on shutdown", extra={"steps": handed, "reason": reason})
    except Exception:
        # The leases run out and the reaper retries the steps: slower, never lost.
        logger.exception("could not hand back running steps; the reaper will recover them")
    finally:
        shutdown.end_hand_back()
    if message is not None:
        settle_message(*message, handed=bool(handed))
    logging.shutdown()
    os._exit(0)
