"""The audit trail and the metrics of MCP tool calls: who called which tool, with what, and the outcome."""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from prometheus_client import Counter, Histogram

from innominatus.accounts import audit
from innominatus.mcp.dispatch import Caller
from workflows.redaction import REDACTED, redact_for_app

logger = logging.getLogger(__name__)

TOOL_CALLS = Counter(
    "innominatus_mcp_tool_calls",
    "MCP tool calls by tool and outcome (ok, error, fault).",
    ["tool", "outcome"],
)
TOOL_DURATION = Histogram(
    "innominatus_mcp_tool_duration_seconds",
    "Time to answer an MCP tool call.",
    ["tool"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, float("inf")),
)

# Argument names whose values are never written to the audit log in clear.
_SECRET_NAME = re.compile(r"pass(word)?|secret|token|credential|api[_-]?key|private", re.IGNORECASE)
_MAX_TEXT = 500


def _mask(value: Any, key: str = "") -> Any:
    if key and _SECRET_NAME.search(key):
        return REDACTED
    if isinstance(value, dict):
        return {str(k): _mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value[:50]]
    if isinstance(value, str) and len(value) > _MAX_TEXT:
        return value[:_MAX_TEXT] + "…"
    return value


def masked_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the audit log keeps them: secret-named values and stored secret values masked,
    a spec by its size and digest (the revision it creates keeps the document itself)."""
    kept = {k: v for k, v in arguments.items() if k != "spec"}
    masked: dict[str, Any] = _mask(kept)
    if "spec" in arguments:
        text = str(arguments["spec"])
        masked["spec"] = {"bytes": len(text.encode()), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    app = arguments.get("app") or arguments.get("name") or ""
    if isinstance(app, str) and app:
        # The application's own stored secret values, wherever an agent pasted them.
        masked = _redact_strings(masked, app)
    return masked


def _redact_strings(value: Any, app: str) -> Any:
    if isinstance(value, dict):
        return {k: _redact_strings(v, app) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_strings(item, app) for item in value]
    if isinstance(value, str):
        return redact_for_app(value, app_name=app)
    return value


def _result_summary(data: Any) -> dict[str, Any]:
    """The identifiers a result names (what was created or read), not the whole result."""
    if not isinstance(data, dict):
        return {"items": len(data)} if isinstance(data, list) else {}
    summary = {
        key: data[key]
        for key in ("id", "name", "status", "execution", "application", "revision", "plan_id", "valid")
        if isinstance(data.get(key), str | int | bool)
    }
    if isinstance(data.get("results"), list):
        summary["items"] = len(data["results"])
    return summary


def record_call(
    caller: Caller,
    tool: str,
    arguments: dict[str, Any],
    *,
    outcome: str,
    status: int,
    data: Any = None,
    detail: str = "",
    seconds: float = 0.0,
) -> None:
    """One audit event and the metrics of one tool call."""
    TOOL_CALLS.labels(tool, outcome).inc()
    TOOL_DURATION.labels(tool).observe(seconds)
    summary: dict[str, Any] = {"tool": tool, "arguments": masked_arguments(arguments), "outcome": outcome}
    if outcome == "ok":
        summary["result"] = _result_summary(data)
    else:
        summary["error"] = detail[:_MAX_TEXT]
    audit.record(
        "mcp.tool_call",
        user=caller.user,
        object_type="mcp_tool",
        object_id=tool,
        summary=summary,
        status_code=status,
        auth_method=caller.auth_method,
        request=caller.request,
    )
