"""The official Score samples: accepted, or refused only for what a server cannot do."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workflows.score import BUILTIN_RESOURCE_TYPES, ScoreValidationError, ingest, parse_document
from workflows.score.schema import schema_problems

DATA = Path(__file__).resolve().parents[2] / "data" / "score"
SAMPLES = sorted(path.name for path in DATA.glob("*.yaml"))

# Each refusal is one of the documented reasons: a file `source` (a path on the author's disk),
# `image: .` (an image the tooling would build), a resource type nobody provisions, or a probe
# `host` (Pod Security baseline).
REFUSED = {
    "compose-03-files-score.yaml": {
        ("file-source-unsupported", "/containers/hello/files/~1fileA.txt/source", 13),
    },
    "spec-score-full.yaml": {
        ("file-source-unsupported", "/containers/container-one1/files/~1my~1file/source", 32),
        ("image-build-unsupported", "/containers/container-two2/image", 65),
        ("probe-host-forbidden", "/containers/container-one1/readinessProbe/httpGet/host", 57),
        ("unknown-resource-type", "/resources/resource-one1/type", 73),
        ("unknown-resource-type", "/resources/resource-two2/type", 79),
        ("unknown-resource-type", "/resources/resource-three/type", 81),
    },
}


def test_all_samples_are_vendored() -> None:
    assert len(SAMPLES) == 13


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_passes_the_official_schema(name: str, sample: Callable[[str], bytes]) -> None:
    document = parse_document(sample(name), content_type="application/yaml")
    assert schema_problems(document, {}) == []


@pytest.mark.parametrize("name", [name for name in SAMPLES if name not in REFUSED])
def test_sample_is_accepted(name: str, sample: Callable[[str], bytes]) -> None:
    result = ingest(sample(name))
    assert result.spec["apiVersion"] == "score.dev/v1b1"
    assert len(result.sha256) == 64
    assert sorted(result.resource_order) == sorted(result.spec.get("resources", {}))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_sample_is_refused_only_for_documented_reasons(name: str, sample: Callable[[str], bytes]) -> None:
    with pytest.raises(ScoreValidationError) as caught:
        ingest(sample(name))
    assert {(p.code, p.pointer, p.line) for p in caught.value.problems} == REFUSED[name]


def test_full_sample_with_its_resource_types_known_fails_only_for_source_build_and_probe_host(
    sample: Callable[[str], bytes],
) -> None:
    types = BUILTIN_RESOURCE_TYPES | {"Resource-One", "Resource-Two", "Type-Three"}
    with pytest.raises(ScoreValidationError) as caught:
        ingest(sample("spec-score-full.yaml"), known_types=types)
    assert [p.code for p in caught.value.problems] == [
        "file-source-unsupported",
        "probe-host-forbidden",
        "image-build-unsupported",
    ]


def test_unknown_type_message_lists_the_known_types(sample: Callable[[str], bytes]) -> None:
    with pytest.raises(ScoreValidationError) as caught:
        ingest(sample("spec-score-full.yaml"), known_types={"postgres", "redis"})
    unknown = [p for p in caught.value.problems if p.code == "unknown-resource-type"]
    assert unknown[0].message == "unknown resource type 'Resource-One'; known types: postgres, redis"
    assert unknown[0].path == "resources.resource-one1.type"


def test_readme_sample_orders_resources_by_dependency(sample: Callable[[str], bytes]) -> None:
    result = ingest(sample("spec-readme-postgres-dns-route.yaml"))
    assert result.resource_order == ["db", "dns", "route"]
    order = ingest(sample("compose-09-dns-and-route-score.yaml")).resource_order
    assert order.index("dns") < order.index("route")


def test_deprecated_list_forms_become_maps(sample: Callable[[str], bytes]) -> None:
    main = ingest(sample("spec-score-deprecated-files-and-volumes.yaml")).spec["containers"]["main"]
    assert main["files"] == {"/mnt/some-path": {"content": "my content here"}}
    assert main["volumes"] == {"/mnt/vol": {"source": "some-volume"}}


def test_samples_have_distinct_hashes(sample: Callable[[str], bytes]) -> None:
    hashes = {ingest(sample(name)).sha256 for name in SAMPLES if name not in REFUSED}
    assert len(hashes) == len(SAMPLES) - len(REFUSED)
