"""OIDC claims → a Django user, found by (issuer, sub), named by preferred_username, with roles and teams.

Roles and teams come only from the explicit mappings of admin-config.yaml (`oidc.roleMapping`,
`oidc.teamMapping`, `oidc.teamPrefix`); without them a new SSO user has the default role and no team.
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from innominatus.accounts import rbac
from innominatus.accounts.config import PLATFORM_ADMIN, AccessConfig, access_config
from innominatus.accounts.models import ExternalIdentity, Team

logger = logging.getLogger(__name__)

# What is remembered of the claims on the identity row (never tokens).
KEPT_CLAIMS = ("sub", "preferred_username", "email", "name", "given_name", "family_name")


class ClaimsError(Exception):
    """The claims cannot be turned into a user (no name, or the name belongs to an unlinked account)."""


def claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name or dotted path (`realm_access.roles`); None when absent."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def claim_values(claims: dict[str, Any], path: str) -> list[str] | None:
    """A claim as a list of strings; None when the claim is absent (so nothing is synced from it)."""
    if not path:
        return None
    value = claim(claims, path)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str | int)]
    return None


def _lookup(mapping: dict[str, str], value: str) -> str | None:
    """Mapping lookup by the raw value and by the value without a leading slash (Keycloak group paths)."""
    return mapping.get(value) or mapping.get(value.lstrip("/"))


def roles_from_claims(config: AccessConfig, groups: list[str], roles: list[str]) -> set[str]:
    """Role names: values of either claim listed in oidc.roleMapping, nothing else.

    A claim value that merely equals a role's name grants nothing: the provider's administrators are
    not necessarily innominatus's, so only the mapping the platform team wrote counts.
    """
    found: set[str] = set()
    for value in [*roles, *groups]:
        mapped = _lookup(config.role_mapping, value)
        if mapped:
            found.add(mapped)
    return found


def teams_from_claims(config: AccessConfig, groups: list[str]) -> set[str]:
    """Team names: groups listed in oidc.teamMapping, and groups named `<oidc.teamPrefix><team>`."""
    found: set[str] = set()
    for value in groups:
        mapped = _lookup(config.team_mapping, value)
        if mapped:
            found.add(mapped)
            continue
        path = value.lstrip("/")
        if config.team_prefix and path.startswith(config.team_prefix):
            slug = slugify(path[len(config.team_prefix) :].replace("/", "-"))[:100].strip("-")
            if slug:
                found.add(slug)
    return found


def _apply_roles(user: Any, names: set[str], config: AccessConfig) -> None:
    current = set(user.groups.filter(name__in=config.roles).values_list("name", flat=True))
    if current != names:
        user.groups.remove(*Group.objects.filter(name__in=current - names))
        user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in sorted(names - current)])
    rbac.forget_cached_roles(user)
    is_admin = PLATFORM_ADMIN in names
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        # The provider decides who is a platform admin; the Django admin needs staff + superuser.
        user.is_staff = user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])


def _apply_teams(user: Any, names: set[str]) -> None:
    teams = []
    for name in sorted(names):
        team, _ = Team.objects.get_or_create(name=name, defaults={"display_name": name})
        teams.append(team)
    user.teams.set(teams)


def _username(claims: dict[str, Any]) -> str:
    name = claims.get("preferred_username") or claims.get("email")
    if not isinstance(name, str) or not name.strip():
        raise ClaimsError("the provider sent neither preferred_username nor email")
    return name.strip()[:150]


@transaction.atomic
def sync_user_from_claims(issuer: str, claims: dict[str, Any]) -> Any:
    """Create or update the user behind an OIDC identity, with its roles and teams, on every sign-in."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise ClaimsError("the claims have no subject")
    user_model = get_user_model()
    username = _username(claims)
    identity = (
        ExternalIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is None:
        if user_model.objects.filter(username__iexact=username).exists():
            # Linking by name would let whoever controls that name at the provider take over a local account.
            raise ClaimsError(f"the username {username!r} belongs to an account not linked to this identity")
        user = user_model.objects.create_user(username=username, email=claims.get("email") or "")
        user.set_unusable_password()
        user.save(update_fields=["password"])
        identity = ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject)
        logger.info("created user from OIDC claims", extra={"user": username})
    user = identity.user
    changed = []
    if user.username != username and not user_model.objects.filter(username__iexact=username).exists():
        user.username = username
        changed.append("username")
    for field, key in (("email", "email"), ("first_name", "given_name"), ("last_name", "family_name")):
        value = claims.get(key)
        if isinstance(value, str) and getattr(user, field) != value[:150]:
            setattr(user, field, value[:150])
            changed.append(field)
    if changed:
        user.save(update_fields=changed)
    config = access_config()
    groups = claim_values(claims, config.teams_claim or settings.OIDC_TEAMS_CLAIM)
    roles = claim_values(claims, config.roles_claim or settings.OIDC_ROLES_CLAIM)
    if config.maps_roles and (groups is not None or roles is not None):
        _apply_roles(user, roles_from_claims(config, groups or [], roles or []), config)
    if config.maps_teams and groups is not None:
        _apply_teams(user, teams_from_claims(config, groups))
    identity.claims = {key: claims[key] for key in KEPT_CLAIMS if key in claims}
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["claims", "last_login_at"])
    return user
