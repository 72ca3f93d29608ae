"""Receivers of the workflows app's domain events that move the orchestration metrics.

A metric must never break the engine, so every receiver logs and swallows its own errors.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from ops.metrics import definitions as m

logger = logging.getLogger(__name__)

_PROVISIONING_FROM = {"requested", "provisioning", "updating"}


def _safe(receiver: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(receiver)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            logger.exception("metrics receiver failed", extra={"receiver": receiver.__name__})

    return wrapper


def _label(value: Any, fallback: str = "unknown") -> str:
    text = str(getattr(value, "value", value) or "")
    return text[:100] or fallback


@_safe
def on_execution_started(sender: Any, **kwargs: Any) -> None:
    """execution_started(execution_id, app_name, workflow_name)."""
    m.WORKFLOWS_STARTED.inc()


@_safe
def on_execution_finished(sender: Any, *, status: Any, duration: float | None = None, **kwargs: Any) -> None:
    """execution_finished(execution, status, duration): totals and the duration histogram."""
    final = _label(status)
    m.WORKFLOWS_EXECUTED.inc()
    if final == "completed":
        m.WORKFLOWS_SUCCEEDED.inc()
    elif final == "failed":
        m.WORKFLOWS_FAILED.inc()
    elif final == "cancelled":
        m.WORKFLOWS_CANCELLED.inc()
    if duration is not None and duration >= 0:
        m.WORKFLOW_DURATION.labels(status=final).observe(duration)


@_safe
def on_step_finished(
    sender: Any, *, step: Any, status: Any, duration: float | None = None, **kwargs: Any
) -> None:
    """step_finished(step, status, duration): step duration by type."""
    if duration is None or duration < 0:
        return
    m.STEP_DURATION.labels(type=_label(getattr(step, "step_type", "")), status=_label(status)).observe(
        duration
    )


@_safe
def on_resource_transitioned(
    sender: Any,
    *,
    resource: Any,
    from_state: Any,
    to_state: Any,
    duration: float | None = None,
    **kwargs: Any,
) -> None:
    """resource_transitioned(resource, from_state, to_state, duration): provisioning time and failures."""
    before, after = _label(from_state, ""), _label(to_state, "")
    if before not in _PROVISIONING_FROM:
        return
    labels = {"provider": _label(getattr(resource, "provider", "")), "type": _label(resource.resource_type)}
    if after == "active" and duration is not None and duration >= 0:
        m.PROVISIONING_DURATION.labels(**labels).observe(duration)
    elif after == "failed":
        m.PROVISIONING_FAILURES.labels(**labels).inc()


def connect() -> None:
    """Connect the receivers (called from OpsConfig.ready)."""
    from workflows import signals

    signals.execution_started.connect(on_execution_started, dispatch_uid="ops.metrics.execution_started")
    signals.execution_finished.connect(on_execution_finished, dispatch_uid="ops.metrics.execution_finished")
    signals.step_finished.connect(on_step_finished, dispatch_uid="ops.metrics.step_finished")
    signals.resource_transitioned.connect(
        on_resource_transitioned, dispatch_uid="ops.metrics.resource_transitioned"
    )
