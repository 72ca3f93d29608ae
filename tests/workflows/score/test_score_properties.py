"""Property tests: ingest fails only with ScoreValidationError, and is deterministic on valid specs."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workflows.score import BUILTIN_RESOURCE_TYPES, ScoreValidationError, ingest

BASE: dict[str, Any] = {
    "apiVersion": "score.dev/v1b1",
    "metadata": {"name": "demo"},
    "containers": {"main": {"image": "nginx", "variables": {"A": "${metadata.name}"}}},
    "resources": {"db": {"type": "postgres"}},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
yaml_alphabet = st.sampled_from([*"ab:-[]{}&*!|>'\"\n #$%@`,?.0~\t\\", "${", "---", "<<", "!!", "\u00e9"])
labels = st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def accepted_or_refused(text: str | bytes, content_type: str | None = None) -> None:
    try:
        result = ingest(text, content_type=content_type)
    except ScoreValidationError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.message
            assert problem.pointer == "" or problem.pointer.startswith("/")
    else:
        assert ingest(result.canonical).sha256 == result.sha256


@FAST
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    accepted_or_refused(data)


@FAST
@given(st.lists(yaml_alphabet, max_size=80).map("".join))
def test_yaml_like_noise(text: str) -> None:
    accepted_or_refused(text)
    accepted_or_refused(text, "application/json")


@FAST
@given(json_values)
def test_arbitrary_documents(value: Any) -> None:
    accepted_or_refused(json.dumps(value), "application/json")
    accepted_or_refused(yaml.safe_dump(value))


def _mutate(document: dict[str, Any], rng: random.Random, value: Any) -> dict[str, Any]:
    """Replace or insert ``value`` at a random place of a valid document."""
    mutated = copy.deepcopy(document)
    node: Any = mutated
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = rng.choice(keys) if keys else "extra"
        child = node[key] if keys else None
        if isinstance(child, dict | list) and child and rng.random() < 0.7:
            node = child
            continue
        node[key] = value
        return mutated


@FAST
@given(st.randoms(use_true_random=False), json_values)
def test_mutated_valid_documents(rng: random.Random, value: Any) -> None:
    mutated = _mutate(BASE, rng, value)
    accepted_or_refused(json.dumps(mutated))
    accepted_or_refused(yaml.safe_dump(mutated, sort_keys=False))


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(labels, min_size=1, max_size=4, unique=True))
    resources: dict[str, Any] = {}
    for index, name in enumerate(names):
        resource: dict[str, Any] = {"type": draw(st.sampled_from(sorted(BUILTIN_RESOURCE_TYPES)))}
        if index and draw(st.booleans()):
            # Only earlier resources are referenced, so the graph stays acyclic.
            resource["params"] = {"ref": f"${{resources.{names[draw(st.integers(0, index - 1))]}.host}}"}
        resources[name] = resource
    variables = draw(
        st.dictionaries(
            st.from_regex(r"[A-Z][A-Z0-9_]{0,6}", fullmatch=True),
            st.sampled_from(["x", "$$HOME", "${metadata.name}", *(f"${{resources.{n}.url}}" for n in names)]),
            max_size=4,
        )
    )
    files = {
        f"/etc/{n}.conf": {"content": draw(st.text(max_size=20)).replace("$", "$$").replace("\x00", "")}
        for n in names[:2]
    }
    return {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": draw(labels)},
        "containers": {draw(labels): {"image": "nginx:1", "variables": variables, "files": files}},
        "resources": resources,
    }


def _as_list_form(spec: dict[str, Any]) -> dict[str, Any]:
    legacy = copy.deepcopy(spec)
    for container in legacy["containers"].values():
        container["files"] = [{"target": target, **item} for target, item in container["files"].items()]
    return legacy


@FAST
@given(valid_specs(), st.randoms(use_true_random=False))
def test_valid_specs_are_accepted_deterministically(spec: dict[str, Any], rng: random.Random) -> None:
    # JSON keeps every generated string a string (in YAML 1.2 a bare 0E0 is a float, \x7f is refused).
    first = ingest(json.dumps(spec, indent=2), content_type="application/json")
    assert ingest(json.dumps(spec, indent=2), content_type="application/json") == first
    shuffled = dict(rng.sample(list(spec.items()), len(spec)))
    assert ingest(json.dumps(shuffled), content_type="application/json").sha256 == first.sha256
    assert ingest(json.dumps(_as_list_form(spec))).sha256 == first.sha256
    order = first.resource_order
    for name, resource in spec["resources"].items():
        for ref in resource.get("params", {}).values():
            dependency = ref.split(".")[1]
            assert order.index(dependency) < order.index(name)
