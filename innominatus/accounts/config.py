"""The `rbac` and `oidc` sections of admin-config.yaml, parsed once per file and cached."""

import functools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

PLATFORM_ADMIN = "platform-admin"
DEVELOPER = "developer"
VIEWER = "viewer"
# A team name as the Team model's slug field stores it.
TEAM_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")

DEFAULT_ROLES: dict[str, frozenset[str]] = {
    PLATFORM_ADMIN: frozenset({"*"}),
    DEVELOPER: frozenset(
        {
            "workflows:*",
            "specs:*",
            "resources:*",
            "goldenpaths:read",
            "goldenpaths:execute",
            "providers:read",
            "profile:*",
        }
    ),
    VIEWER: frozenset({"*:read", "profile:*"}),
}


@dataclass(frozen=True)
class AccessConfig:
    """Roles with their permissions and how OIDC claims map onto roles and teams."""

    roles: dict[str, frozenset[str]]
    default_role: str = VIEWER
    teams_claim: str = ""
    roles_claim: str = ""
    team_mapping: dict[str, str] = field(default_factory=dict)
    role_mapping: dict[str, str] = field(default_factory=dict)
    # Groups named `<teamPrefix><name>` become team `<name>`; empty means only teamMapping counts.
    team_prefix: str = ""

    @property
    def maps_roles(self) -> bool:
        """Whether the provider has any say in roles (only through explicit mappings)."""
        return bool(self.role_mapping)

    @property
    def maps_teams(self) -> bool:
        """Whether the provider has any say in teams (only through explicit mappings or the prefix)."""
        return bool(self.team_mapping or self.team_prefix)


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ImproperlyConfigured(f"admin-config.yaml: {where} must be a list of strings")
    return list(value)


def _mapping(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ImproperlyConfigured(f"admin-config.yaml: {where} must map strings to strings")
    return dict(value)


def _is_team_name(value: str) -> bool:
    return bool(TEAM_NAME.fullmatch(value))


def _parse_roles(section: Any) -> dict[str, frozenset[str]]:
    """Accept the configuration guide's list form and a name → permissions mapping."""
    roles: dict[str, frozenset[str]] = {}
    if isinstance(section, list):
        for index, entry in enumerate(section):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ImproperlyConfigured(f"admin-config.yaml: rbac.roles[{index}] needs a name")
            listed = _strings(entry.get("permissions", []), f"rbac.roles[{index}].permissions")
            roles[entry["name"]] = frozenset(listed)
    elif isinstance(section, dict):
        for name, entry in section.items():
            perms_value = entry.get("permissions", []) if isinstance(entry, dict) else entry
            roles[str(name)] = frozenset(_strings(perms_value, f"rbac.roles.{name}"))
    else:
        raise ImproperlyConfigured("admin-config.yaml: rbac.roles must be a list or a mapping")
    for name, granted in roles.items():
        for perm in granted:
            if perm != "*" and perm.count(":") != 1:
                raise ImproperlyConfigured(f"admin-config.yaml: role {name}: {perm!r} is not <area>:<verb>")
    return roles


def parse(document: Any) -> AccessConfig:
    """Build the access configuration from a parsed admin-config document (missing parts keep defaults)."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ImproperlyConfigured("admin-config.yaml must be a mapping")
    rbac = document.get("rbac") or {}
    oidc = document.get("oidc") or {}
    if not isinstance(rbac, dict) or not isinstance(oidc, dict):
        raise ImproperlyConfigured("admin-config.yaml: rbac and oidc must be mappings")
    roles = dict(DEFAULT_ROLES)
    if "roles" in rbac:
        # Configured roles replace the defaults of the same name; platform-admin always keeps everything.
        roles.update(_parse_roles(rbac["roles"]))
        roles[PLATFORM_ADMIN] = roles[PLATFORM_ADMIN] | {"admin:*"}
    default_role = str(rbac.get("defaultRole", rbac.get("default_role", VIEWER)) or "")
    if default_role and default_role not in roles:
        raise ImproperlyConfigured(f"admin-config.yaml: rbac.defaultRole {default_role!r} is not a role")
    role_mapping = _mapping(oidc.get("roleMapping", oidc.get("role_mapping")), "oidc.roleMapping")
    for claim_value, role in role_mapping.items():
        if role not in roles:
            raise ImproperlyConfigured(f"admin-config.yaml: oidc.roleMapping[{claim_value!r}] names no role")
    if oidc.get("createTeams", oidc.get("create_teams", False)) is not False:
        # It made every IdP group a team; accepting it silently would keep handing out team memberships.
        raise ImproperlyConfigured(
            "admin-config.yaml: oidc.createTeams is no longer supported (it made every IdP group a team); "
            "list groups in oidc.teamMapping or set oidc.teamPrefix"
        )
    team_mapping = _mapping(oidc.get("teamMapping", oidc.get("team_mapping")), "oidc.teamMapping")
    for group, team in team_mapping.items():
        if not _is_team_name(team):
            raise ImproperlyConfigured(
                f"admin-config.yaml: oidc.teamMapping[{group!r}]: {team!r} is not a team name "
                "(lowercase letters, digits and dashes, at most 100)"
            )
    team_prefix = oidc.get("teamPrefix", oidc.get("team_prefix", "")) or ""
    if not isinstance(team_prefix, str):
        raise ImproperlyConfigured("admin-config.yaml: oidc.teamPrefix must be a string")
    return AccessConfig(
        roles=roles,
        default_role=default_role,
        teams_claim=str(oidc.get("teamsClaim", oidc.get("teams_claim", "")) or ""),
        roles_claim=str(oidc.get("rolesClaim", oidc.get("roles_claim", "")) or ""),
        team_mapping=team_mapping,
        role_mapping=role_mapping,
        team_prefix=team_prefix.lstrip("/"),
    )


@functools.lru_cache(maxsize=4)
def _load(path: str) -> AccessConfig:
    file = Path(path)
    if not file.is_file():
        return parse({})
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ImproperlyConfigured(f"{path}: cannot read admin configuration: {exc}") from exc
    return parse(document)


def access_config() -> AccessConfig:
    """The current access configuration (parsed on first use; a missing file means the defaults)."""
    return _load(str(settings.ADMIN_CONFIG))


def reload() -> None:
    """Forget the parsed file so the next call reads it again (tests, configuration reloads)."""
    _load.cache_clear()
