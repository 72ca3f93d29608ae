"""Secret values at rest: encrypted with a key derived from the deployment's secret, never logged."""

import base64
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from workflows.models import ResourceInstance, WorkflowExecution


@cache
def _fernet(key_material: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"innominatus", info=b"secret-outputs").derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _key_materials() -> tuple[str, ...]:
    """The current key first, then former ones (ENCRYPTION_PREVIOUS_KEYS), newest first."""
    current = getattr(settings, "ENCRYPTION_KEY", "") or settings.SECRET_KEY
    previous = [key for key in getattr(settings, "ENCRYPTION_PREVIOUS_KEYS", []) if key and key != current]
    return (current, *previous)


def _keys() -> MultiFernet:
    """Encrypts with the current key; decrypts with any of them."""
    return MultiFernet([_fernet(material) for material in _key_materials()])


def encrypt_mapping(values: dict[str, Any]) -> str:
    """Encrypt a mapping of secret outputs for storage ("" when empty)."""
    if not values:
        return ""
    return _keys().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_mapping(token: str) -> dict[str, Any]:
    """Decrypt what encrypt_mapping stored; a wrong key is an error, not an empty result."""
    if not token:
        return {}
    try:
        data = _keys().decrypt(token.encode())
    except InvalidToken:
        raise ValueError("secret outputs cannot be decrypted with the configured keys") from None
    result: dict[str, Any] = json.loads(data)
    return result


@dataclass(frozen=True)
class ReencryptReport:
    """What a re-encryption found: rows already on the current key, rewritten, and unreadable ones."""

    current: int
    reencrypted: int
    unreadable: tuple[str, ...]
    dry_run: bool


def reencrypt_all(*, dry_run: bool = False, batch_size: int = 200) -> ReencryptReport:
    """Rewrite every stored secret output with the current key (ENCRYPTION_KEY)."""
    newest = _fernet(_key_materials()[0])
    keys = _keys()
    current = reencrypted = 0
    unreadable: list[str] = []
    last_id = 0
    while True:
        with transaction.atomic():
            # Row locks: a provision writing the same row waits instead of being overwritten.
            rows = list(
                ResourceInstance.objects.select_for_update()
                .filter(pk__gt=last_id)
                .exclude(secret_outputs="")  # nosec B106 - "none stored"
                .order_by("pk")
                .only("pk", "app_name", "resource_name", "secret_outputs")[:batch_size]
            )
            if not rows:
                break
            for row in rows:
                last_id = row.pk
                token = row.secret_outputs.encode()
                try:
                    newest.decrypt(token)
                    current += 1
                    continue
                except InvalidToken:
                    pass
                try:
                    rotated = keys.rotate(token)
                except InvalidToken:
                    unreadable.append(f"{row.app_name}/{row.resource_name}")
                    continue
                reencrypted += 1
                if not dry_run:
                    ResourceInstance.objects.filter(pk=row.pk).update(secret_outputs=rotated.decode())
    return ReencryptReport(current, reencrypted, tuple(unreadable), dry_run)


def execution_secrets(execution: WorkflowExecution) -> list[str]:
    """Every secret value an execution's logs must never show: those of its application."""
    return app_secrets(execution.app_name)


def app_secrets(app_name: str) -> list[str]:
    """The secret values of the resources an application owns or uses (shared ones included), found by
    name so an undeploy still knows them after the app is gone."""
    values: list[str] = []
    used = Q(app_name=app_name) | Q(bindings__app_name=app_name)
    tokens = ResourceInstance.objects.filter(used).exclude(secret_outputs="")  # nosec B106 - "none stored"
    for token in tokens.values_list("secret_outputs", flat=True).distinct():
        try:
            values.extend(str(v) for v in decrypt_mapping(token).values() if v not in (None, ""))
        except ValueError:
            continue
    return values
