"""Property tests: random and malformed documents never cause a 5xx, and a refusal never writes a row."""

import copy
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.workflows.api.factories import HELLO, post_spec
from workflows.models import Application, DeploymentRevision

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

VALID = yaml.safe_load(HELLO)
MEDIA_TYPES = st.sampled_from(["application/yaml", "application/x-yaml", "text/yaml", "application/json"])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["${resources.db.host}", "${metadata.name}", "$${x}", "${", "score.dev/v1b1", "hello"]),
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["apiVersion", "metadata", "name", "containers", "resources", "image", "type", "files"]),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=25,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


@st.composite
def mutated_specs(draw: st.DrawFn) -> Any:
    """A valid spec with a few random deletions, replacements and insertions."""
    document: Any = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        target = draw(st.sampled_from(paths(document)))
        operation = draw(st.sampled_from(["delete", "replace", "insert"]))
        if not target:
            document = draw(documents) if operation == "replace" else document
            continue
        parent = document
        for part in target[:-1]:
            parent = parent[part]
        if operation == "delete":
            del parent[target[-1]]
        elif operation == "replace":
            parent[target[-1]] = draw(documents)
        elif isinstance(parent[target[-1]], dict):
            parent[target[-1]][draw(keys)] = draw(documents)
    return document


def serialise(document: Any, media_type: str) -> str:
    if media_type == "application/json":
        return json.dumps(document, allow_nan=True)
    return yaml.safe_dump(document, allow_unicode=True)


def check(api: APIClient, body: str | bytes, media_type: str) -> None:
    before = (Application.objects.count(), DeploymentRevision.objects.count())
    response = post_spec(api, body, content_type=media_type)
    assert response.status_code < 500, response.content
    event(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert (Application.objects.count(), DeploymentRevision.objects.count()) == before


@PROPERTY_SETTINGS
@given(body=st.one_of(st.text(max_size=400), st.binary(max_size=200)), media_type=MEDIA_TYPES)
def test_random_text(api: APIClient, body: str | bytes, media_type: str) -> None:
    check(api, body, media_type)


@PROPERTY_SETTINGS
@given(document=documents, media_type=MEDIA_TYPES)
def test_random_documents(api: APIClient, document: Any, media_type: str) -> None:
    check(api, serialise(document, media_type), media_type)


@PROPERTY_SETTINGS
@given(document=mutated_specs(), media_type=MEDIA_TYPES)
def test_mutated_valid_specs(api: APIClient, document: Any, media_type: str) -> None:
    check(api, serialise(document, media_type), media_type)


@PROPERTY_SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(HELLO)), junk=st.text(max_size=10))
def test_truncated_and_spliced_yaml(api: APIClient, cut: int, junk: str) -> None:
    check(api, HELLO[:cut] + junk + HELLO[cut:][: len(HELLO) // 2], "application/yaml")
