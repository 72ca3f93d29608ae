"""Workflow context carried into every log record: workflow_id, app_name and step."""

import contextlib
import contextvars
import logging
from collections.abc import Iterator

_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "innominatus_log_context", default=None
)

CONTEXT_FIELDS = ("workflow_id", "app_name", "step", "request_id", "user")


@contextlib.contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Add fields to the log context for the duration of the block (nested blocks merge)."""
    merged = {**(_CONTEXT.get() or {}), **{k: str(v) for k, v in fields.items() if v not in (None, "")}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current() -> dict[str, str]:
    """The fields bound right now."""
    return dict(_CONTEXT.get() or {})


class ContextFilter(logging.Filter):
    """Copies the bound context onto each record so formatters can emit it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_CONTEXT.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
