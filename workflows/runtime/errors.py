"""Exceptions of the Kubernetes adapter, carrying the API server's status code, reason and message."""

from __future__ import annotations

import json
from typing import Any


class KubeError(Exception):
    """A request to the Kubernetes API failed; `status` is the HTTP code (0 when none was received)."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if status else f"{reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def conflict(self) -> bool:
        return self.status == 409


class ClusterUnavailable(KubeError):
    """No cluster is configured, or its configuration cannot be loaded."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "ClusterUnavailable", message)


class RolloutFailed(KubeError):
    """A workload rollout can no longer succeed (for example its progress deadline was exceeded)."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "RolloutFailed", message)


class RolloutTimeout(KubeError):
    """A workload did not finish rolling out within the allowed time."""

    def __init__(self, message: str) -> None:
        super().__init__(0, "RolloutTimeout", message)


class WaitStopped(Exception):
    """A wait loop was told to stop (cancelled, timed out, or lease lost)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def from_api_exception(exc: Any) -> KubeError:
    """Turn a client ApiException into a KubeError using the Status body the server sent."""
    status = int(getattr(exc, "status", 0) or 0)
    reason = str(getattr(exc, "reason", "") or "")
    message = ""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body:
        try:
            parsed = json.loads(body)
        except ValueError:
            message = str(body)[:500]
        else:
            if isinstance(parsed, dict):
                message = str(parsed.get("message") or "")
                reason = str(parsed.get("reason") or reason)
    return KubeError(status, reason or "Error", message or reason or "request failed")
