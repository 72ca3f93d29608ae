"""Use cases of the accounts app: API keys, role assignment and audit retention."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from innominatus.accounts import audit, rbac
from innominatus.accounts.config import access_config
from innominatus.accounts.models import ApiKey, AuditEvent
from innominatus.accounts.models.api_key import DISPLAY_PREFIX_LENGTH, KEY_PREFIX, hash_key

MIN_EXPIRY_DAYS = 1
MAX_EXPIRY_DAYS = 365


class ApiKeyError(ValueError):
    """An API key request that cannot be honoured (bad name, bad expiry, duplicate name)."""


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: the only moment the raw key exists outside the caller."""

    api_key: ApiKey
    raw_key: str


def generate_raw_key() -> str:
    """`inn_` followed by 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@transaction.atomic
def create_api_key(*, user: Any, name: str, expiry_days: int | None = None, actor: Any = None) -> IssuedKey:
    """Issue a named key for `user`; the raw key is returned once and only its hash is stored."""
    name = (name or "").strip()
    if not name or len(name) > 100 or any(ch in name for ch in "/\\?#%") or not name.isprintable():
        raise ApiKeyError("name must be 1-100 printable characters without / \\ ? # %")
    days = settings.API_KEY_DEFAULT_EXPIRY_DAYS if expiry_days is None else expiry_days
    if not MIN_EXPIRY_DAYS <= days <= MAX_EXPIRY_DAYS:
        raise ApiKeyError(f"expiry_days must be between {MIN_EXPIRY_DAYS} and {MAX_EXPIRY_DAYS}")
    raw = generate_raw_key()
    now = timezone.now()
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                user=user,
                name=name,
                prefix=raw[:DISPLAY_PREFIX_LENGTH],
                key_hash=hash_key(raw),
                created_at=now,
                expires_at=now + timedelta(days=days),
                created_by=actor or user,
            )
    except IntegrityError:
        raise ApiKeyError(f"an API key named {name!r} already exists") from None
    audit.record(
        "api_key_created",
        user=actor or user,
        object_type="api_key",
        object_id=f"{user.get_username()}/{name}",
        summary={"owner": user.get_username(), "name": name, "expires_at": key.expires_at.isoformat()},
    )
    return IssuedKey(api_key=key, raw_key=raw)


@transaction.atomic
def revoke_api_key(*, user: Any, name: str, actor: Any = None) -> ApiKey:
    """Revoke `user`'s key called `name` (ApiKey.DoesNotExist when there is none)."""
    key = ApiKey.objects.select_for_update().get(user=user, name=name)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    audit.record(
        "api_key_revoked",
        user=actor or user,
        object_type="api_key",
        object_id=f"{user.get_username()}/{name}",
        summary={"owner": user.get_username(), "name": name},
    )
    return key


@transaction.atomic
def assign_roles(*, user: Any, roles: list[str], actor: Any = None) -> None:
    """Make `roles` the user's role groups (other groups stay); unknown role names are refused."""
    config = access_config()
    unknown = sorted(set(roles) - set(config.roles))
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(unknown)}")
    user.groups.remove(*Group.objects.filter(name__in=set(config.roles) - set(roles)))
    user.groups.add(*[Group.objects.get_or_create(name=role)[0] for role in roles])
    rbac.forget_cached_roles(user)
    audit.record(
        "roles_assigned",
        user=actor,
        object_type="user",
        object_id=user.get_username(),
        summary={"roles": sorted(roles)},
    )


def ensure_role_groups() -> list[str]:
    """Create a Django group for every configured role; returns the names that were missing."""
    created = []
    for name in access_config().roles:
        _, was_created = Group.objects.get_or_create(name=name)
        if was_created:
            created.append(name)
    return created


def purge_audit_events(older_than: datetime, *, dry_run: bool = False) -> int:
    """Delete audit events that occurred before `older_than` (the cleanup retention); returns the count."""
    stale = AuditEvent.objects.filter(occurred_at__lt=older_than)
    if dry_run:
        return stale.count()
    deleted, _ = stale.delete()
    return deleted


def purge_api_keys(older_than: datetime, *, dry_run: bool = False) -> int:
    """Delete keys that expired or were revoked before `older_than`; returns the count."""
    from django.db.models import Q

    stale = ApiKey.objects.filter(Q(expires_at__lt=older_than) | Q(revoked_at__lt=older_than))
    if dry_run:
        return stale.count()
    deleted, _ = stale.delete()
    return deleted
