"""The one DRF permission class: authentication plus the role permission each endpoint declares."""

import logging
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from innominatus.accounts import rbac

logger = logging.getLogger(__name__)


def required_permission(request: Request, view: Any) -> str | None:
    """The permission this request needs, or None when the endpoint declared nothing."""
    match = getattr(request, "resolver_match", None)
    decision = rbac.declared_decision(
        view,
        basename=getattr(view, "basename", None),
        url_name=getattr(match, "url_name", None),
    )
    return rbac.permission_for(decision, action=getattr(view, "action", None), method=request.method or "GET")


class RolePermission(BasePermission):
    """Deny by default: every endpoint must name the permission it needs (see innominatus.accounts.rbac)."""

    message = "You do not have permission to perform this action."

    def has_permission(self, request: Request, view: Any) -> bool:
        needed = required_permission(request, view)
        if needed is None:
            logger.error(
                "endpoint has no permission decision; refusing",
                extra={"view": type(view).__name__, "path": request.path, "method": request.method},
            )
            self.message = "This endpoint has no permission decision and is closed."
            return False
        if needed == rbac.PUBLIC:
            return True
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if needed == rbac.AUTHENTICATED:
            return True
        if rbac.has_permission(user, needed):
            return True
        self.message = f"Your role does not grant {needed}."
        return False
