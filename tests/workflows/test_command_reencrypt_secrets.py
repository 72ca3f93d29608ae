"""Encryption-key rotation: former keys still decrypt, and `manage.py reencrypt_secrets` rewrites
every stored secret output with the current key (with --dry-run and a lock)."""

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from innominatus.accounts.models import Team
from innominatus.locks import command_lock
from tests.workflows.api.factories import make_application, make_resource
from workflows.management.commands.reencrypt_secrets import REENCRYPT_LOCK
from workflows.models import ResourceInstance
from workflows.services.secrets import decrypt_mapping, encrypt_mapping

pytestmark = pytest.mark.django_db(transaction=True)

OLD, NEW = "old-encryption-key-material", "new-encryption-key-material"


def stored(values: dict[str, Any], name: str) -> ResourceInstance:
    user = get_user_model().objects.create_user(f"owner-{name}", password="pw-123456789")
    Team.objects.get_or_create(name="owners")[0].members.add(user)
    resource = make_resource(make_application(user, f"app-{name}"), name)
    resource.secret_outputs = encrypt_mapping(values)
    resource.save(update_fields=["secret_outputs"])
    return resource


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("reencrypt_secrets", *args, stdout=out)
    return out.getvalue()


def test_rotation_keeps_old_outputs_readable_then_reencrypts_them() -> None:
    with override_settings(ENCRYPTION_KEY=OLD, ENCRYPTION_PREVIOUS_KEYS=[]):
        first = stored({"password": "pw-one"}, "one")
        second = stored({"password": "pw-two"}, "two")
        old_tokens = {r.pk: r.secret_outputs for r in ResourceInstance.objects.exclude(secret_outputs="")}

    with (
        override_settings(ENCRYPTION_KEY=NEW, ENCRYPTION_PREVIOUS_KEYS=[]),
        pytest.raises(ValueError, match="cannot be decrypted"),
    ):
        decrypt_mapping(old_tokens[first.pk])

    with override_settings(ENCRYPTION_KEY=NEW, ENCRYPTION_PREVIOUS_KEYS=[OLD]):
        assert decrypt_mapping(old_tokens[first.pk]) == {"password": "pw-one"}
        third = stored({"password": "pw-three"}, "three")

        dry = run("--dry-run")
        assert "would re-encrypt: 2" in dry and "already on the current key: 1" in dry
        assert {
            r.pk: r.secret_outputs for r in ResourceInstance.objects.filter(pk__in=old_tokens)
        } == old_tokens

        output = run()
        assert "re-encrypted: 2" in output and "already on the current key: 1" in output
        assert "re-encrypted: 0" in run()

    # The old key is gone now; every row reads with the new one alone.
    with override_settings(ENCRYPTION_KEY=NEW, ENCRYPTION_PREVIOUS_KEYS=[]):
        for resource, value in ((first, "pw-one"), (second, "pw-two"), (third, "pw-three")):
            resource.refresh_from_db()
            assert decrypt_mapping(resource.secret_outputs) == {"password": value}


def test_rows_no_key_decrypts_are_named_and_left_alone() -> None:
    with override_settings(ENCRYPTION_KEY="a-lost-key", ENCRYPTION_PREVIOUS_KEYS=[]):
        lost = stored({"password": "gone"}, "lost")
    with (
        override_settings(ENCRYPTION_KEY=NEW, ENCRYPTION_PREVIOUS_KEYS=[OLD]),
        pytest.raises(CommandError, match="app-lost/lost"),
    ):
        run()
    token = lost.secret_outputs
    lost.refresh_from_db()
    assert lost.secret_outputs == token


def test_a_second_run_is_refused_while_one_holds_the_lock() -> None:
    with command_lock(REENCRYPT_LOCK), pytest.raises(CommandError, match="lock held"):
        run()
