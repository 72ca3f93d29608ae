"""Schema and semantic validation: every problem at once, each with an exact location and a clear message."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from workflows.score import BUILTIN_RESOURCE_TYPES, ScoreValidationError, ingest
from workflows.score.errors import MAX_PROBLEMS


def problems_of(document: dict[str, Any] | str, **kwargs: Any) -> list[tuple[str, str]]:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(ScoreValidationError) as caught:
        ingest(text, **kwargs)
    return [(p.code, p.pointer) for p in caught.value.problems]


def only_problem(document: dict[str, Any]) -> Any:
    with pytest.raises(ScoreValidationError) as caught:
        ingest(json.dumps(document))
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


def test_minimal_spec_is_accepted(minimal: dict[str, Any]) -> None:
    result = ingest(json.dumps(minimal))
    assert result.spec == minimal
    assert result.extensions == {}
    assert result.name == "demo"


def test_bad_api_version(minimal: dict[str, Any]) -> None:
    minimal["apiVersion"] = "score.dev/v1"
    problem = only_problem(minimal)
    assert (problem.code, problem.pointer, problem.path) == ("invalid-value", "/apiVersion", "apiVersion")
    assert problem.message == "must be 'score.dev/v1b1' (got 'score.dev/v1')"


@pytest.mark.parametrize("name", ["My_App", "a", "-abc", "abc-", "x" * 64])
def test_bad_metadata_name(minimal: dict[str, Any], name: str) -> None:
    minimal["metadata"]["name"] = name
    problem = only_problem(minimal)
    assert (problem.code, problem.pointer) == ("invalid-value", "/metadata/name")
    assert "lowercase letters, digits or '-'" in problem.message


def test_missing_fields_point_at_the_missing_field(minimal: dict[str, Any]) -> None:
    del minimal["metadata"]["name"]
    del minimal["containers"]["main"]["image"]
    assert problems_of(minimal) == [
        ("required", "/containers/main/image"),
        ("required", "/metadata/name"),
    ]


def test_empty_containers(minimal: dict[str, Any]) -> None:
    minimal["containers"] = {}
    problem = only_problem(minimal)
    assert (problem.code, problem.pointer, problem.message) == (
        "invalid-value",
        "/containers",
        "needs at least one entry",
    )


def test_file_with_neither_content_nor_source(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["files"] = {"/etc/x.conf": {"mode": "0600"}}
    problem = only_problem(minimal)
    assert problem.code == "missing-field"
    assert problem.pointer == "/containers/main/files/~1etc~1x.conf"
    assert problem.path == "containers.main.files./etc/x.conf"
    assert problem.message == "needs exactly one of 'content', 'binaryContent' or 'source'"


def test_file_in_list_form_with_neither_content_nor_source(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["files"] = [{"target": "/etc/x.conf"}]
    problem = only_problem(minimal)
    assert (problem.code, problem.pointer, problem.path) == (
        "missing-field",
        "/containers/main/files/0",
        "containers.main.files[0]",
    )


def test_file_with_two_sources_of_content(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["files"] = {"/x": {"content": "a", "binaryContent": "YQ=="}}
    problem = only_problem(minimal)
    assert (problem.code, problem.message) == (
        "conflicting-fields",
        "set only one of 'content' or 'binaryContent'",
    )


def test_target_inside_the_map_form(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["volumes"] = {"/data": {"source": "v", "target": "/data"}}
    assert problems_of(minimal) == [("not-allowed", "/containers/main/volumes/~1data/target")]


def test_files_of_the_wrong_type(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["files"] = "config.txt"
    problem = only_problem(minimal)
    assert (problem.code, problem.message) == ("wrong-type", "expected a list or a mapping, got a string")


def test_probe_needs_http_or_exec(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["livenessProbe"] = {}
    problem = only_problem(minimal)
    assert (problem.code, problem.pointer, problem.message) == (
        "missing-field",
        "/containers/main/livenessProbe",
        "needs at least one of 'httpGet' or 'exec'",
    )


def test_unknown_fields_are_named(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["imagePullPolicy"] = "Always"
    minimal["deploy"] = True
    problems = problems_of(minimal)
    assert problems == [("unknown-field", "/containers/main/imagePullPolicy"), ("unknown-field", "/deploy")]
    with pytest.raises(ScoreValidationError) as caught:
        ingest(json.dumps(minimal))
    top = caught.value.problems[1].message
    assert top.startswith(
        "unknown field 'deploy' (allowed: apiVersion, containers, metadata, resources, service"
    )
    assert "workflows, environment" in top


def test_wrong_value_types_and_names(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["variables"] = {"PORT": 8080, "A=B": "x"}
    minimal["containers"]["Main"] = {"image": "x"}
    minimal["service"] = {"ports": {"web": {"port": 70000, "protocol": "SCTP"}}}
    assert problems_of(minimal) == [
        ("invalid-name", "/containers/Main"),
        ("invalid-name", "/containers/main/variables/A=B"),
        ("wrong-type", "/containers/main/variables/PORT"),
        ("invalid-value", "/service/ports/web/port"),
        ("invalid-value", "/service/ports/web/protocol"),
    ]


def test_unknown_resource_type(minimal: dict[str, Any]) -> None:
    minimal["resources"] = {"db": {"type": "postgresql"}}
    problem = only_problem(minimal)
    assert (problem.code, problem.pointer) == ("unknown-resource-type", "/resources/db/type")
    assert problem.message.startswith("unknown resource type 'postgresql'; known types: amqp, dns,")
    assert (
        ingest(json.dumps(minimal), known_types={"postgresql"}).spec["resources"]["db"]["type"]
        == "postgresql"
    )


def test_resource_types_are_case_sensitive(minimal: dict[str, Any]) -> None:
    minimal["resources"] = {"db": {"type": "Postgres"}}
    assert problems_of(minimal) == [("unknown-resource-type", "/resources/db/type")]


def test_schema_problem_hides_semantic_duplicate(minimal: dict[str, Any]) -> None:
    minimal["resources"] = {"db": {"type": "no_such_type"}}
    assert problems_of(minimal) == [("invalid-value", "/resources/db/type")]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("${resources.cache.host}", "placeholder-unknown-resource"),
        ("${foo}", "placeholder-unknown-root"),
        ("${}", "placeholder-unknown-root"),
        ("${metadata.missing}", "placeholder-missing-metadata"),
        ("${metadata.name.first}", "placeholder-missing-metadata"),
        ("${metadata}", "placeholder-incomplete"),
        ("${resources}", "placeholder-incomplete"),
        ("postgres://${resources.db.host", "placeholder-unterminated"),
    ],
)
def test_bad_placeholders(minimal: dict[str, Any], value: str, code: str) -> None:
    minimal["resources"] = {"db": {"type": "postgres"}}
    minimal["containers"]["main"]["variables"] = {"URL": value}
    problem = only_problem(minimal)
    assert (problem.code, problem.pointer) == (code, "/containers/main/variables/URL")


def test_undeclared_resource_message(minimal: dict[str, Any]) -> None:
    minimal["resources"] = {"db": {"type": "postgres"}}
    minimal["containers"]["main"]["variables"] = {"URL": "redis://${resources.cache.host}"}
    assert only_problem(minimal).message == (
        "'${resources.cache.host}' refers to resource 'cache', "
        "which is not declared under 'resources' (declared: db)"
    )


@pytest.mark.parametrize(
    "value",
    [
        "$${foo}",
        "$$",
        "cost: $5",
        "${metadata.name}",
        "${metadata.annotations.example\\.com/team}",
        "${resources.db}",
        "${resources.db.anything.nested}",
        "$${unterminated",
    ],
)
def test_good_placeholders(minimal: dict[str, Any], value: str) -> None:
    minimal["metadata"]["annotations"] = {"example.com/team": "core"}
    minimal["resources"] = {"db": {"type": "postgres"}}
    minimal["containers"]["main"]["variables"] = {"V": value}
    ingest(json.dumps(minimal))


def test_placeholders_are_checked_where_score_expands_them(minimal: dict[str, Any]) -> None:
    main = minimal["containers"]["main"]
    main["files"] = {
        "/a": {"content": "${bad.a}"},
        "/b": {"binaryContent": "${not.checked}"},
        "/c": {"content": "${not.checked}", "noExpand": True},
    }
    main["volumes"] = {"/data": {"source": "${resources.gone}"}}
    main["command"] = ["${not.checked}"]
    minimal["resources"] = {"queue": {"type": "amqp", "params": {"list": [{"x": "${nope}"}], "n": 1}}}
    assert problems_of(minimal) == [
        ("placeholder-unknown-root", "/containers/main/files/~1a/content"),
        ("placeholder-unknown-resource", "/containers/main/volumes/~1data/source"),
        ("placeholder-unknown-root", "/resources/queue/params/list/0/x"),
    ]


def test_resource_cycle(minimal: dict[str, Any]) -> None:
    minimal["resources"] = {
        "aa": {"type": "route", "params": {"host": "${resources.bb.host}"}},
        "bb": {"type": "dns", "params": {"x": "${resources.cc.x}"}},
        "cc": {"type": "dns", "params": {"x": "${resources.aa.x}"}},
        "dd": {"type": "dns", "params": {"me": "${resources.dd.x}"}},
        "ee": {"type": "dns", "params": {"x": "${resources.aa.x}"}},
    }
    with pytest.raises(ScoreValidationError) as caught:
        ingest(json.dumps(minimal))
    problems = caught.value.problems
    assert [(p.code, p.pointer) for p in problems] == [
        ("resource-cycle", "/resources/aa/params"),
        ("resource-cycle", "/resources/dd/params"),
    ]
    assert problems[0].message == "resources depend on each other's outputs in a cycle: aa -> bb -> cc -> aa"
    assert problems[1].message.endswith("cycle: dd -> dd")


def test_list_form_needs_unique_targets(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["volumes"] = [
        {"source": "v1"},
        {"source": "v2", "target": "/data"},
        {"source": "v3", "target": "/data"},
    ]
    assert problems_of(minimal) == [
        ("target-missing", "/containers/main/volumes/0/target"),
        ("duplicate-target", "/containers/main/volumes/2/target"),
    ]


def test_before_must_name_another_container(minimal: dict[str, Any]) -> None:
    minimal["containers"]["init"] = {"image": "busybox", "before": {"main": {"ready": "complete"}}}
    ingest(json.dumps(minimal))
    minimal["containers"]["main"]["before"] = {"main": {"ready": "started"}, "ghost": {"ready": "started"}}
    assert problems_of(minimal) == [
        ("unknown-container", "/containers/main/before/ghost"),
        ("unknown-container", "/containers/main/before/main"),
    ]


def test_all_problems_are_reported_together_with_lines() -> None:
    text = """\
apiVersion: score.dev/v1b1
metadata:
  name: Bad_Name
containers:
  web:
    image: .
    variables:
      DB: ${resources.db.host}
    files:
      /etc/app.conf:
        source: ./app.conf
resources:
  cache:
    type: memcached
"""
    with pytest.raises(ScoreValidationError) as caught:
        ingest(text)
    assert [(p.line, p.code, p.path) for p in caught.value.problems] == [
        (3, "invalid-value", "metadata.name"),
        (6, "image-build-unsupported", "containers.web.image"),
        (8, "placeholder-unknown-resource", "containers.web.variables.DB"),
        (11, "file-source-unsupported", "containers.web.files./etc/app.conf.source"),
        (14, "unknown-resource-type", "resources.cache.type"),
    ]
    error = caught.value
    assert str(error).startswith("invalid Score spec, 5 problem(s): metadata.name (line 3): must be")
    assert error.as_list()[1] == {
        "pointer": "/containers/web/image",
        "path": "containers.web.image",
        "message": error.problems[1].message,
        "code": "image-build-unsupported",
        "line": 6,
    }
    assert "set its reference" in error.problems[1].message
    assert "'content' (text) or 'binaryContent' (base64)" in error.problems[3].message


def test_problem_count_is_capped(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["variables"] = {f"V{i}": f"${{nope{i}}}" for i in range(150)}
    with pytest.raises(ScoreValidationError) as caught:
        ingest(json.dumps(minimal))
    problems = caught.value.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert (problems[-1].code, problems[-1].message) == (
        "too-many-problems",
        "50 more problems are not listed",
    )


def test_identical_problems_are_reported_once(minimal: dict[str, Any]) -> None:
    minimal["containers"]["main"]["variables"] = {"V": "${x}-${x}-${x}"}
    assert problems_of(minimal) == [("placeholder-unknown-root", "/containers/main/variables/V")]


def test_extensions_are_split_off_before_validation(minimal: dict[str, Any]) -> None:
    minimal["workflows"] = {"deploy": {"steps": [{"name": "apply", "type": "kubernetes"}]}}
    minimal["environment"] = {"type": "kubernetes", "ttl": "24h"}
    result = ingest(yaml.safe_dump(minimal))
    assert "workflows" not in result.spec
    assert "environment" not in result.spec
    assert result.extensions == {"workflows": minimal["workflows"], "environment": minimal["environment"]}
    assert json.loads(result.canonical)["environment"] == {"type": "kubernetes", "ttl": "24h"}


def test_builtin_types_cover_the_reference_provisioners() -> None:
    expected = {
        "postgres",
        "mysql",
        "redis",
        "mongodb",
        "amqp",
        "s3",
        "dns",
        "route",
        "volume",
        "service-port",
    }
    assert expected <= BUILTIN_RESOURCE_TYPES
    assert {
        "environment",
        "kafka-topic",
        "elasticsearch",
        "mssql",
        "postgres-instance",
    } <= BUILTIN_RESOURCE_TYPES


def test_nul_characters_are_refused_with_their_path() -> None:
    import json

    from workflows.score import ScoreValidationError, ingest

    document = {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "hello", "\x00": None},
        "containers": {"main": {"image": "nginx", "variables": {"A": "x\x00y"}}},
    }
    try:
        ingest(json.dumps(document), content_type="application/json")
    except ScoreValidationError as exc:
        codes = {(problem.path, problem.code) for problem in exc.problems}
    else:
        raise AssertionError("a NUL character was accepted")
    assert ("metadata", "nul-character") in codes
    assert ("containers.main.variables.A", "nul-character") in codes
