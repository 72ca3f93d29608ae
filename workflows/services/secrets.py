"""Secret values at rest: encrypted with a key derived from the deployment's secret, never logged."""

import base64
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db.models import Q

from workflows.models import ResourceInstance, WorkflowExecution


@cache
def _fernet(key_material: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"innominatus", info=b"secret-outputs").derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _key_material() -> str:
    return getattr(settings, "ENCRYPTION_KEY", "") or settings.SECRET_KEY


def encrypt_mapping(values: dict[str, Any]) -> str:
    """Encrypt a mapping of secret outputs for storage ("" when empty)."""
    if not values:
        return ""
    return _fernet(_key_material()).encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_mapping(token: str) -> dict[str, Any]:
    """Decrypt what encrypt_mapping stored; a wrong key is an error, not an empty result."""
    if not token:
        return {}
    try:
        data = _fernet(_key_material()).decrypt(token.encode())
    except InvalidToken:
        raise ValueError("secret outputs cannot be decrypted with the configured key") from None
    result: dict[str, Any] = json.loads(data)
    return result


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
