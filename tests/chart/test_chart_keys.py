"""SECRET_KEY and the encryption key are never random per `helm template`: values, an existing Secret,
or (with a cluster) the Secret already there; otherwise the render fails and says what to set."""

from __future__ import annotations

import base64
from typing import Any

from tests.chart.conftest import CHART_DIR, TEST_SECRET_KEY


def secret_data(chart: Any, manifests: list[dict[str, Any]], name: str) -> dict[str, str]:
    secret = chart.find(manifests, "Secret", name)
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_template_without_keys_fails_with_what_to_set(helm: Any) -> None:
    result = helm("template", "innominatus", str(CHART_DIR), "--namespace", "platform")
    assert result.returncode != 0
    assert "secrets.existingSecret" in result.stderr and "secrets.secretKey" in result.stderr
    assert "helm template" in result.stderr


def test_two_renders_give_the_same_keys(chart: Any) -> None:
    values = {"secrets.encryptionKey": "enc-key-1", "database.password": "pw"}
    first = chart.helm(*chart.args(set_values=values))
    second = chart.helm(*chart.args(set_values=values))
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    manifests = chart.render(set_values=values)
    main = secret_data(chart, manifests, "innominatus-secrets")
    assert main["secret-key"] == TEST_SECRET_KEY and main["encryption-key"] == "enc-key-1"
    assert secret_data(chart, manifests, "innominatus-migrate") == main


def test_an_existing_secret_needs_no_keys_and_renders_no_secret(chart: Any) -> None:
    manifests = chart.render(keys=False, set_values={"secrets.existingSecret": "platform-keys"})
    assert not [m for m in manifests if m["kind"] == "Secret"]
    env = chart.env(chart.container(chart.find(manifests, "Deployment", "innominatus-worker"), "worker"))
    for variable, key in (
        ("SECRET_KEY", "secret-key"),
        ("ENCRYPTION_KEY", "encryption-key"),
        ("ENCRYPTION_PREVIOUS_KEYS", "previous-encryption-keys"),
    ):
        assert env[variable]["secretKeyRef"]["name"] == "platform-keys"
        assert env[variable]["secretKeyRef"]["key"] == key


def test_previous_encryption_keys_are_stored_newest_first(chart: Any) -> None:
    manifests = chart.render(
        set_values={"secrets.encryptionKey": "new", "secrets.previousEncryptionKeys": "{older,oldest}"}
    )
    data = secret_data(chart, manifests, "innominatus-secrets")
    assert data["encryption-key"] == "new" and data["previous-encryption-keys"] == "older,oldest"
    env = chart.env(chart.container(chart.find(manifests, "Deployment", "innominatus"), "server"))
    assert env["ENCRYPTION_PREVIOUS_KEYS"]["secretKeyRef"] == {
        "name": "innominatus-secrets",
        "key": "previous-encryption-keys",
        "optional": True,
    }
