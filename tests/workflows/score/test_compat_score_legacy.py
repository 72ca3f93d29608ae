"""The original innominatus's Score dialect: properties, container env and ports, translated with warnings."""

from __future__ import annotations

import pytest

from workflows.score import ScoreValidationError, ingest

LEGACY = """
apiVersion: score.dev/v1b1
metadata: {name: shop}
containers:
  main:
    image: nginx:1.27
    env:
      DB_HOST: ${resources.db.host}
      LOG_LEVEL: debug
    variables:
      LOG_LEVEL: info
    ports:
      - {name: http, port: 80, targetPort: 8080, protocol: tcp}
      - {port: 9090}
resources:
  db:
    type: postgres
    properties: {size: small, version: "15"}
    params: {size: large}
"""


def test_properties_env_and_ports_are_translated_with_warnings() -> None:
    result = ingest(LEGACY)
    container = result.spec["containers"]["main"]
    assert container["variables"] == {"DB_HOST": "${resources.db.host}", "LOG_LEVEL": "info"}
    assert "env" not in container and "ports" not in container
    assert result.spec["service"]["ports"] == {
        "http": {"port": 80, "targetPort": 8080, "protocol": "TCP"},
        "port-1": {"port": 9090},
    }
    # params win over the original's properties
    assert result.spec["resources"]["db"]["params"] == {"size": "large", "version": "15"}
    codes = {(w["pointer"], w["code"]) for w in result.warnings}
    assert codes == {
        ("/resources/db/properties", "deprecated-properties"),
        ("/containers/main/env", "converted-env"),
        ("/containers/main/ports", "converted-ports"),
    }
    properties = next(w for w in result.warnings if w["code"] == "deprecated-properties")
    assert (
        "params win for size" in properties["message"] and "write 'params' instead" in properties["message"]
    )
    env = next(w for w in result.warnings if w["code"] == "converted-env")
    assert "silently dropped" in env["message"] and "'variables'" in env["message"]


def test_a_plain_score_spec_has_no_warnings() -> None:
    plain = "apiVersion: score.dev/v1b1\nmetadata: {name: ab}\ncontainers: {main: {image: nginx:1.27}}\n"
    assert ingest(plain).warnings == ()


@pytest.mark.parametrize(
    ("snippet", "pointer"),
    [
        ("    env: not-a-mapping\n", "/containers/main/env"),
        ("    ports: [{name: http, port: eighty}]\n", "/containers/main/ports"),
        ("    resources: {}\n    imagePullPolicy: Always\n", "/containers/main/imagePullPolicy"),
    ],
)
def test_shapes_that_are_not_the_original_dialect_stay_refused(snippet: str, pointer: str) -> None:
    text = (
        "apiVersion: score.dev/v1b1\nmetadata: {name: ab}\ncontainers:\n  main:\n    image: nginx:1.27\n"
        + snippet
    )
    with pytest.raises(ScoreValidationError) as caught:
        ingest(text)
    assert pointer in [p.pointer for p in caught.value.problems]


def test_unknown_top_level_keys_stay_refused() -> None:
    text = "apiVersion: score.dev/v1b1\nmetadata: {name: ab}\ncontainers: {main: {image: nginx:1.27}}\nresource: {}\n"
    with pytest.raises(ScoreValidationError) as caught:
        ingest(text)
    assert caught.value.problems[0].pointer == "/resource"
