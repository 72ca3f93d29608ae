"""Log formatting: one JSON object per line (or console text), with secrets redacted.

Used by settings.LOGGING and by gunicorn's logconfig_dict, so application, access and gunicorn
error lines share one shape: level, timestamp, message, logger, plus the bound context
(workflow_id, app_name, step, request_id, user) and request fields when present.
"""

import logging
import re
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

REDACTED = "[REDACTED]"
# Context fields repeated as `key=value` text in the JSON field "context".
GREP_FIELDS = ("workflow_id", "app_name", "step")
_SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # password=…, "client_secret": "…", token: …, api_key=…, PGPASSWORD=…
    (
        re.compile(
            r"(?i)((?:password|passwd|pgpassword|secret|client_secret|token|api[_-]?key)[\"']?\s*[:=]\s*[\"']?)"
            r"(?!\[REDACTED\])[^\s\"'&,;}]+"
        ),
        r"\1" + REDACTED,
    ),
    # Authorization: Bearer …, "authorization": "Basic …"
    (
        re.compile(
            r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token)\s+)?)(?!\[REDACTED\])[^\s\"',;}]+"
        ),
        r"\1" + REDACTED,
    ),
    # innominatus API keys wherever they appear.
    (re.compile(r"\binn_[A-Za-z0-9_\-]{6,}"), "inn_" + REDACTED),
    # Credentials inside URLs: scheme://user:password@host
    (re.compile(r"(://[^:/\s@]+:)[^@/\s]+@"), r"\1" + REDACTED + "@"),
]
# Attributes every LogRecord has; everything else was passed as `extra` or bound by ContextFilter.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def redact(text: str) -> str:
    """`text` with known secret patterns replaced by [REDACTED]."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Redacts secrets in the message, its arguments, string extras and the traceback of a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                message = str(record.msg)
            record.msg, record.args = redact(message), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def _rfc3339(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(_BaseJsonFormatter):
    """JSON lines: level, timestamp (RFC 3339, UTC), message, logger, then context and extras."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(asctime)s %(message)s %(name)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "asctime": "timestamp", "name": "logger"})
        kwargs.setdefault("json_default", str)
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _rfc3339(record.created)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        level = log_data.get("level")
        if isinstance(level, str):
            log_data["level"] = level.lower()
        # Django attaches the request object to some records; its repr is noise next to our fields.
        log_data.pop("request", None)
        # The workflow context once more as key=value text, so that `grep workflow_id=wf-…` finds the
        # lines of a workflow (a JSON field reads "workflow_id": "wf-…").
        bound = [f"{key}={log_data[key]}" for key in GREP_FIELDS if log_data.get(key) not in (None, "")]
        if bound:
            log_data["context"] = " ".join(bound)
        return log_data


class ConsoleFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the bound context appended as key=value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)-8s %(name)s: %(message)s")
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _rfc3339(record.created)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = {
            key: value
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRS and key != "request" and not key.startswith("_")
        }
        if not extras:
            return line
        first, _, rest = line.partition("\n")
        suffix = " ".join(f"{key}={value}" for key, value in extras.items())
        return f"{first} [{suffix}]" + (f"\n{rest}" if rest else "")


PROBE_PATHS = frozenset({"/health", "/ready", "/livez", "/metrics"})


class GunicornAccessFilter(logging.Filter):
    """Turns gunicorn's access atoms into fields and drops probe requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args if isinstance(record.args, dict) else None
        if atoms is None:
            return True
        path = str(atoms.get("U") or "")
        if path.rstrip("/") in PROBE_PATHS or path in PROBE_PATHS:
            return False
        record.method = atoms.get("m")
        record.path = path
        record.status = int(atoms["s"]) if str(atoms.get("s", "")).isdigit() else atoms.get("s")
        micros = atoms.get("D")
        record.duration_ms = round(micros / 1000, 3) if isinstance(micros, int) else None
        record.remote_addr = atoms.get("h")
        record.user_agent = atoms.get("a")
        record.msg, record.args = "%s %s %s", (atoms.get("m"), path, atoms.get("s"))
        return True


class HealthCheckResultFilter(logging.Filter):
    """A check that reports its component unhealthy is a probe result, not a crash: one line, no traceback.

    django-health-check logs every failed check with exc_info; a degraded worker check before the first
    heartbeat would print a full traceback on every probe otherwise.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from health_check.exceptions import HealthCheckException

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HealthCheckException):
            check = record.args[0] if isinstance(record.args, tuple) and record.args else None
            component = getattr(check, "component", type(check).__name__)
            record.msg, record.args = "health check %s: %s", (component, str(error))
            record.exc_info, record.exc_text = None, None
        return True
