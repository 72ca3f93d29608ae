"""Bad input never causes a 5xx: nesting limits on JSON and YAML, text no database can store, the
resource and container limits of a spec, and names longer than their columns are each refused with a
400 problem naming the path, before anything is written."""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.workflows.api.factories import HELLO, post_spec
from workflows.engine.errors import WorkflowValidationError
from workflows.engine.loader import load_workflow
from workflows.models import (
    Application,
    DeploymentRevision,
    EphemeralEnvironment,
    ResourceInstance,
    StepExecution,
    WorkflowExecution,
)
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.django_db

EXECUTE = "/api/golden-paths/ephemeral-env/execute"
GOOD_PARAMETERS = {"app_name": "shop", "environment": "pr-1", "ttl": "2h"}
WRITTEN: list[Any] = [
    Application,
    DeploymentRevision,
    ResourceInstance,
    WorkflowExecution,
    StepExecution,
    EphemeralEnvironment,
]


def nothing_written() -> bool:
    return not any(model.objects.exists() for model in WRITTEN)


def refused(response: Any, *paths: str) -> list[dict[str, Any]]:
    """The problem's errors, after checking it is a 400 problem naming each of `paths`."""
    assert response.status_code == 400, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/problem+json"
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert {error["path"] for error in errors} >= set(paths), errors
    assert nothing_written()
    return errors


def raw_post(api: APIClient, path: str, body: str) -> Any:
    return api.post(path, data=body.encode("utf-8", "surrogatepass"), content_type="application/json")


def spec_json(**variables: str) -> str:
    document = {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "hello"},
        "containers": {"main": {"image": "nginx:1.27", "variables": variables}},
    }
    # ensure_ascii writes a lone surrogate as the escape \ud800, as any JSON client would.
    return json.dumps(document)


def with_resources(count: int) -> str:
    return HELLO + "".join(f"  extra{i}:\n    type: redis\n" for i in range(count - 1))


def with_containers(count: int) -> str:
    extra = "".join(f"  side{i}:\n    image: busybox\n" for i in range(count - 1))
    return HELLO.replace("containers:\n", "containers:\n" + extra)


# Nesting


def test_json_nested_too_deep_to_parse_is_a_400_naming_where(api: APIClient) -> None:
    depth = 100_000
    body = '{"parameters": {"app_name": "shop", "extra": ' + "[" * depth + "]" * depth + "}}"
    errors = refused(raw_post(api, EXECUTE, body))
    (error,) = errors
    assert error["code"] == "too_deep"
    assert error["path"] == "parameters.extra" + "[0]" * 62


def test_json_nested_beyond_the_limit_is_a_400_naming_the_path(api: APIClient, settings: Any) -> None:
    settings.INPUT_MAX_DEPTH = 8
    nested: Any = "x"
    for _ in range(10):
        nested = {"k": nested}
    response = api.post(EXECUTE, {"parameters": {**GOOD_PARAMETERS, "deep": nested}}, format="json")
    (error,) = refused(response, "parameters.deep.k.k.k.k.k.k")
    assert error["message"] == "nested deeper than 8 levels"


def test_score_nesting_follows_the_configured_limit(api: APIClient, settings: Any) -> None:
    settings.INPUT_MAX_DEPTH = 8
    nested = "x"
    for level in range(9):
        nested = f"{{l{level}: {nested}}}"
    refused(post_spec(api, HELLO + f"  deep:\n    type: redis\n    params: {nested}\n"))
    assert post_spec(api, HELLO, dry_run="true").status_code == 200


def test_yaml_nested_too_deep_is_a_400(api: APIClient) -> None:
    (error,) = refused(post_spec(api, "a: " + "[" * 5000 + "]" * 5000))
    assert "depth" in error["message"]


# Text that cannot be stored


@pytest.mark.parametrize("bad", ["\ud800", "tail\udfff", "a\udc80b", "nul\x00"])
def test_invalid_text_in_a_score_json_field_is_a_400_naming_it(api: APIClient, bad: str) -> None:
    (error,) = refused(
        post_spec(api, spec_json(X=bad), content_type="application/json"), "containers.main.variables.X"
    )
    assert ("surrogate" in error["message"]) or ("NUL" in error["message"])


def test_a_lone_surrogate_in_a_score_key_is_refused(api: APIClient) -> None:
    refused(
        post_spec(api, spec_json(**{"X\ud800": "v"}), content_type="application/json"),
        "containers.main.variables",
    )


def test_a_lone_surrogate_escape_in_score_yaml_names_the_field(api: APIClient) -> None:
    (error,) = refused(post_spec(api, HELLO.replace("nginx:1.27", '"nginx\\ud800"')), "containers.main.image")
    assert error["code"] == "invalid-unicode"


@pytest.mark.parametrize(
    ("parameters", "path"),
    [
        ({**GOOD_PARAMETERS, "environment": "pr\ud800"}, "parameters.environment"),
        ({**GOOD_PARAMETERS, "app_name": "\udfffshop"}, "parameters.app_name"),
        ({**GOOD_PARAMETERS, "x\ud800": 1}, "parameters.x\\ud800"),
        ({**GOOD_PARAMETERS, "ttl": ["2h", "nul\x00"]}, "parameters.ttl[1]"),
        ({**GOOD_PARAMETERS, "\x00": 1}, "parameters.\\x00"),
    ],
)
def test_invalid_text_in_a_golden_path_parameter_is_a_400_naming_it(
    api: APIClient, parameters: dict[str, Any], path: str
) -> None:
    refused(raw_post(api, EXECUTE, json.dumps({"parameters": parameters})), path)


def test_invalid_text_in_any_json_body_is_refused_by_the_parser(api: APIClient) -> None:
    refused(raw_post(api, "/api/profile/api-keys", '{"name": "key\\ud800"}'), "name")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/api/applications/a%00b", "url"),
        ("/api/workflows?app_name=%00", "query.app_name"),
        ("/api/resources?search=x%00y", "query.search"),
    ],
)
def test_nul_in_the_url_is_a_400(api: APIClient, url: str, path: str) -> None:
    refused(api.get(url), path)


# Size of a spec


def timed(call: Callable[[], Any], times: int = 5) -> tuple[Any, float, float]:
    """The response, and the fastest wall-clock and CPU time of this thread over several calls.

    The test client runs the whole request in this thread, so its CPU time is the work the server
    does for it; a machine shared with other jobs stretches the wall-clock time, not that.
    """
    walls, cpus = [], []
    for _ in range(times):
        wall, cpu = time.perf_counter(), time.thread_time()
        response = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
    return response, min(walls), min(cpus)


def assert_answered_fast(wall: float, cpu: float) -> None:
    assert cpu < 0.1, f"{cpu * 1000:.0f} ms of CPU"
    assert wall < 1.0, f"{wall * 1000:.0f} ms"


def test_too_many_resources_are_refused_fast_before_any_work(api: APIClient) -> None:
    response, wall, cpu = timed(lambda: post_spec(api, with_resources(500)))
    (error,) = refused(response, "resources")
    assert error["code"] == "too-many-resources"
    assert "500 resources" in error["message"] and "at most 100" in error["message"]
    assert_answered_fast(wall, cpu)


def test_too_many_containers_are_refused_fast(api: APIClient) -> None:
    response, wall, cpu = timed(lambda: post_spec(api, with_containers(500)))
    (error,) = refused(response, "containers")
    assert error["code"] == "too-many-containers"
    assert_answered_fast(wall, cpu)


def test_the_limits_are_settings(api: APIClient, settings: Any) -> None:
    settings.SCORE_MAX_RESOURCES = 3
    settings.SCORE_MAX_CONTAINERS = 2
    refused(post_spec(api, with_resources(4)), "resources")
    refused(post_spec(api, with_containers(3)), "containers")
    assert post_spec(api, with_resources(3), dry_run="true").status_code == 200
    assert post_spec(api, with_containers(2), dry_run="true").status_code == 200


# Names longer than their columns


@pytest.mark.parametrize("key", ["app_name", "environment"])
def test_golden_path_names_are_bounded_at_the_edge(api: APIClient, key: str) -> None:
    response = api.post(EXECUTE, {"parameters": {**GOOD_PARAMETERS, key: "a" * 300}}, format="json")
    (error,) = refused(response, f"parameters.{key}")
    assert error["message"] == "must be at most 63 characters"


def test_a_reported_reference_url_is_bounded(api: APIClient, developer: Any) -> None:
    from innominatus.accounts.models import Team
    from workflows.choices import ResourceKind

    application = Application.objects.create(name="ext", team=Team.objects.get(name="team-a"))
    resource = ResourceInstance.objects.create(
        application=application,
        app_name="ext",
        resource_name="db",
        resource_type="postgres",
        kind=ResourceKind.EXTERNAL,
    )
    url = "https://example.com/" + "a" * 1000
    response = api.post(
        f"/api/resources/{resource.pk}/external-state",
        {"state": "active", "reference_url": url},
        format="json",
    )
    assert response.status_code == 400
    assert [error["path"] for error in response.json()["errors"]] == ["reference_url"]
    resource.refresh_from_db()
    assert resource.reference_url == "" and resource.state == "requested"


def test_workflow_names_longer_than_their_column_are_refused_when_loaded() -> None:
    with pytest.raises(WorkflowValidationError) as caught:
        load_workflow(
            {"metadata": {"name": "w" * 201}, "steps": [{"name": "a", "type": "noop"}]},
            known_step_types=known_step_types(),
        )
    assert [problem.path for problem in caught.value.problems] == ["metadata.name"]


# Anything at all


def any_text() -> st.SearchStrategy[str]:
    return st.lists(
        st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff", "\x00", "\\", '"', "{", "["])),
        max_size=20,
    ).map("".join)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), any_text()),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(any_text(), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parameters=json_values, nesting=st.integers(min_value=0, max_value=300))
def test_no_json_body_causes_a_5xx(api: APIClient, parameters: Any, nesting: int) -> None:
    body = json.dumps({"parameters": parameters})
    body = "[" * nesting + body + "]" * nesting
    for path in (EXECUTE, "/api/applications"):
        response = raw_post(api, path, body)
        assert response.status_code < 500, (path, response.content[:300])
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/problem+json"
            assert not WorkflowExecution.objects.exists() and not Application.objects.exists()


score_documents = st.fixed_dictionaries(
    {
        "apiVersion": st.one_of(st.just("score.dev/v1b1"), any_text()),
        "metadata": st.fixed_dictionaries({"name": st.one_of(st.just("hello"), any_text())}),
        "containers": st.dictionaries(
            st.one_of(st.just("main"), any_text()),
            st.fixed_dictionaries(
                {"image": st.one_of(st.just("nginx"), any_text())},
                optional={"variables": st.dictionaries(any_text(), json_values, max_size=3)},
            ),
            min_size=1,
            max_size=2,
        ),
    },
    optional={"resources": st.dictionaries(any_text(), json_values, max_size=3)},
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=score_documents, as_yaml=st.booleans())
def test_no_score_document_causes_a_5xx(api: APIClient, document: Any, as_yaml: bool) -> None:
    text = json.dumps(document)
    # JSON is YAML: the same document through the YAML reader, escapes and all.
    response = post_spec(
        api,
        text.encode("utf-8"),
        content_type="application/yaml" if as_yaml else "application/json",
        dry_run="true",
    )
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
    assert not Application.objects.exists()
