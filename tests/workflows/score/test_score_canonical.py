"""Canonical form and content hash: one hash per meaning, whatever the spelling."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import yaml

from workflows.score import canonical_json, content_hash, ingest

YAML_SPEC = """\
apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: shop:1.0
    variables:
      GREETING: "héllo ${metadata.name}"
    files:
      - target: /etc/shop.conf
        content: "port = 8080"
    volumes:
      - target: /data
        source: ${resources.data}
service:
  ports:
    www:
      port: 8080.0
resources:
  data:
    type: volume
workflows:
  deploy:
    steps: [{name: apply, type: kubernetes}]
"""

EQUIVALENT_JSON = {
    "workflows": {"deploy": {"steps": [{"type": "kubernetes", "name": "apply"}]}},
    "resources": {"data": {"type": "volume"}},
    "service": {"ports": {"www": {"port": 8080}}},
    "containers": {
        "web": {
            "volumes": {"/data": {"source": "${resources.data}"}},
            "files": {"/etc/shop.conf": {"content": "port = 8080"}},
            "variables": {"GREETING": "héllo ${metadata.name}"},
            "image": "shop:1.0",
        }
    },
    "metadata": {"name": "shop"},
    "apiVersion": "score.dev/v1b1",
}


def test_canonical_json_is_sorted_compact_and_utf8() -> None:
    assert (
        canonical_json({"b": [1, {"d": "é", "c": None}], "a": True})
        == '{"a":true,"b":[1,{"c":null,"d":"é"}]}'
    )


def test_yaml_json_key_order_and_deprecated_forms_hash_alike() -> None:
    from_yaml = ingest(YAML_SPEC)
    from_json = ingest(json.dumps(EQUIVALENT_JSON), content_type="application/json")
    assert from_yaml.canonical == from_json.canonical
    assert from_yaml.sha256 == from_json.sha256
    assert from_yaml.spec["containers"]["web"]["files"] == {"/etc/shop.conf": {"content": "port = 8080"}}
    assert from_yaml.spec["service"]["ports"]["www"]["port"] == 8080


def test_hash_is_sha256_of_the_canonical_text() -> None:
    result = ingest(YAML_SPEC)
    assert result.sha256 == hashlib.sha256(result.canonical.encode("utf-8")).hexdigest()
    assert result.sha256 == content_hash(result.spec, result.extensions)
    assert '"GREETING":"héllo ${metadata.name}"' in result.canonical


def test_canonical_text_round_trips() -> None:
    result = ingest(YAML_SPEC)
    again = ingest(result.canonical)
    assert (again.sha256, again.spec, again.extensions) == (result.sha256, result.spec, result.extensions)


def test_any_change_of_meaning_changes_the_hash() -> None:
    base = ingest(YAML_SPEC).sha256
    assert ingest(YAML_SPEC.replace("shop:1.0", "shop:1.1")).sha256 != base
    assert ingest(YAML_SPEC.replace("type: kubernetes", "type: script")).sha256 != base
    without_workflows = YAML_SPEC.split("workflows:")[0]
    assert ingest(without_workflows).sha256 != base


def test_samples_hash_alike_as_yaml_and_json(sample: Callable[[str], bytes]) -> None:
    for name in ("compose-09-dns-and-route-score.yaml", "spec-readme-postgres-dns-route.yaml"):
        document: dict[str, Any] = yaml.safe_load(sample(name))
        assert ingest(sample(name)).sha256 == ingest(json.dumps(document, indent=2)).sha256
