"""Writing audit events: the request's who/where/request-id come from the context the middleware binds."""

import contextvars
import logging
from dataclasses import dataclass, field
from typing import Any

from innominatus.accounts.models import AuditEvent

logger = logging.getLogger(__name__)


@dataclass
class RequestInfo:
    """What the audit log needs to know about the request being served."""

    request_id: str = ""
    client_ip: str = ""
    method: str = ""
    path: str = ""
    recorded: list[int] = field(default_factory=list)


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "innominatus_audit", default=None
)


def bind(info: RequestInfo) -> contextvars.Token[RequestInfo | None]:
    """Make `info` the current request's audit context (the middleware does this)."""
    return _current.set(info)


def unbind(token: contextvars.Token[RequestInfo | None]) -> None:
    """Restore the previous audit context."""
    _current.reset(token)


def current() -> RequestInfo | None:
    """The audit context of the request being served, if any."""
    return _current.get()


def record(
    action: str,
    *,
    user: Any = None,
    username: str = "",
    object_type: str = "",
    object_id: str = "",
    summary: dict[str, Any] | None = None,
    status_code: int | None = None,
    auth_method: str = "",
    request: Any = None,
) -> AuditEvent:
    """Write one audit event, filling in request id, client address, method and path from the context."""
    from innominatus.accounts.network import client_ip

    info = current() or RequestInfo()
    if request is not None and not info.client_ip:
        info = RequestInfo(
            request_id=info.request_id, client_ip=client_ip(request), method=request.method, path=request.path
        )
    is_user = user is not None and getattr(user, "is_authenticated", False)
    event = AuditEvent.objects.create(
        user=user if is_user else None,
        username=(username or (user.get_username() if is_user else ""))[:150],
        action=action[:64],
        object_type=object_type[:100],
        object_id=str(object_id)[:255],
        client_ip=info.client_ip or None,
        request_id=info.request_id[:64],
        method=(info.method or "")[:10],
        path=(info.path or "")[:1000],
        status_code=status_code,
        auth_method=auth_method[:20],
        summary=summary or {},
    )
    info.recorded.append(event.pk)
    return event
