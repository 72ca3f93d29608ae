"""Roles, permission strings and the central map of which permission each API endpoint needs.

A permission is `<area>:<verb>` (`workflows:read`, `specs:create`, `admin:*`). A role grants a set of
them; `*` grants everything, `<area>:*` every verb of an area, `*:<verb>` that verb in every area
except the privileged ones (`admin`, `audit`), which only `*` or an explicit grant opens.

Every DRF endpoint needs a decision: either a `required_permissions` attribute on the view or an
entry in ROUTE_PERMISSIONS below, keyed by the router basename (viewsets) or the URL name (plain
API views). Each decision maps an action name (`list`, `retrieve`, `cancel`, …), an HTTP method
(`GET`, `POST`, …) or `*` to a permission string, PUBLIC or AUTHENTICATED. Endpoints without a
decision are refused for everybody, and the RBAC matrix test fails for them.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from innominatus.accounts.config import PLATFORM_ADMIN, access_config

PUBLIC = "public"
AUTHENTICATED = "authenticated"
PRIVILEGED_AREAS = frozenset({"admin", "audit"})

Decision = str | Mapping[str, str]


def _crud(area: str, *, writes: str = "", **actions: str) -> dict[str, str]:
    """A viewset decision: reads need `<area>:read`, writes `writes` (default `<area>:write`), plus extras."""
    write = writes or f"{area}:write"
    decision = {"list": f"{area}:read", "retrieve": f"{area}:read"}
    decision.update({name: write for name in ("create", "update", "partial_update", "destroy")})
    decision.update(actions)
    return decision


# Keyed by router basename or URL name. The lead and the app owners add entries for new endpoints.
ROUTE_PERMISSIONS: dict[str, Decision] = {
    "application": _crud(
        "specs",
        create="specs:create",
        update="specs:create",
        partial_update="specs:create",
        destroy="specs:delete",
        manifests="specs:read",
        revisions="specs:read",
        diff="specs:read",
        rollback="specs:create",
        deploy="specs:create",
        resources="resources:read",
        executions="workflows:read",
        workflows="workflows:read",
    ),
    "spec": _crud(
        "specs",
        create="specs:create",
        update="specs:create",
        partial_update="specs:create",
        destroy="specs:delete",
        manifests="specs:read",
        diff="specs:read",
        rollback="specs:create",
    ),
    "revision": _crud(
        "specs", create="specs:create", diff="specs:read", rollback="specs:create", manifests="specs:read"
    ),
    "execution": _crud(
        "workflows",
        logs="workflows:read",
        steps="workflows:read",
        graph="workflows:read",
        cancel="workflows:write",
        retry="workflows:write",
        approve="workflows:write",
        reject="workflows:write",
    ),
    "step": _crud("workflows", logs="workflows:read"),
    "resource": _crud(
        "resources", external_state="resources:read", transitions="resources:read", history="resources:read"
    ),
    "stats": {"*": "workflows:read"},
    "goldenpath": _crud(
        "goldenpaths", execute="goldenpaths:execute", run="goldenpaths:execute", create="goldenpaths:execute"
    ),
    "provider": _crud("providers", writes="admin:write", reload="admin:write", workflows="providers:read"),
    "workflow": _crud("workflows"),
    "grafana-dashboard": {"GET": "workflows:read"},
    "dashboard": {"GET": "workflows:read"},
    # drf-spectacular's schema and Swagger UI: the API description is not a secret.
    "schema": {"GET": PUBLIC},
    "swagger-ui": {"GET": PUBLIC},
}


def grants(granted: Iterable[str], required: str) -> bool:
    """Whether a set of granted permissions covers `required`."""
    granted = set(granted)
    if "*" in granted or required in granted:
        return True
    area, _, verb = required.partition(":")
    if f"{area}:*" in granted:
        return True
    return area not in PRIVILEGED_AREAS and f"*:{verb}" in granted


def role_names(user: Any) -> list[str]:
    """The configured roles of a user: its role groups, else the default role (superusers are admins)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_innominatus_roles", None)
    if cached is not None:
        return list(cached)
    config = access_config()
    names = sorted(set(user.groups.values_list("name", flat=True)) & set(config.roles))
    if getattr(user, "is_superuser", False) and PLATFORM_ADMIN not in names:
        names.insert(0, PLATFORM_ADMIN)
    if not names and config.default_role:
        names = [config.default_role]
    user._innominatus_roles = tuple(names)
    return names


def permissions_of(user: Any) -> frozenset[str]:
    """Everything the user's roles grant (superusers: everything)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return frozenset()
    if getattr(user, "is_superuser", False):
        return frozenset({"*"})
    roles = access_config().roles
    found: set[str] = set()
    for name in role_names(user):
        found |= roles.get(name, frozenset())
    return frozenset(found)


def has_permission(user: Any, permission: str) -> bool:
    """Whether `user` holds `permission` (PUBLIC and AUTHENTICATED are handled by the caller)."""
    return grants(permissions_of(user), permission)


def forget_cached_roles(user: Any) -> None:
    """Drop the per-request role cache after group changes."""
    if hasattr(user, "_innominatus_roles"):
        del user._innominatus_roles


def declared_decision(view: Any, *, basename: str | None, url_name: str | None) -> Decision | None:
    """The decision for a view: its own `required_permissions`, else the central map entry."""
    own = getattr(view, "required_permissions", None)
    if own is not None:
        return own
    for key in (basename, url_name):
        if key and key in ROUTE_PERMISSIONS:
            return ROUTE_PERMISSIONS[key]
    return None


def permission_for(decision: Decision | None, *, action: str | None, method: str) -> str | None:
    """The permission a request needs under `decision`, or None when nothing was decided."""
    if decision is None:
        return None
    if isinstance(decision, str):
        return decision
    for key in (action, method.upper(), "*"):
        if key and key in decision:
            return decision[key]
    if method.upper() == "HEAD":
        return permission_for(decision, action=action, method="GET")
    if method.upper() == "OPTIONS":
        # DRF's metadata describes the endpoint's fields; any signed-in user may ask.
        return AUTHENTICATED
    return None
