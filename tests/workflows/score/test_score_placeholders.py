"""Placeholder syntax and substitution, as score-go defines them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from workflows.score import (
    PlaceholderError,
    build_resolver,
    container_references,
    find_placeholders,
    find_references,
    iter_substitutable,
    parse_document,
    resource_dependencies,
    split_ref,
    substitute,
    substitute_all,
)


def echo(parts: list[str]) -> str:
    return "<" + "|".join(parts) + ">"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("plain", "plain"),
        ("${a.b}", "<a|b>"),
        ("x${a}y${b.c}z", "x<a>y<b|c>z"),
        ("$$", "$"),
        ("$$$$", "$$"),
        ("$${a}", "${a}"),
        ("$$_$${fizzbuzz}", "$_${fizzbuzz}"),
        # score-go treats "$${...}" as one escape: the text inside is not unescaped again.
        ("$${a$$b}", "${a$$b}"),
        ("$${unterminated", "${unterminated"),
        ("$HOME and $", "$HOME and $"),
        ("${a.b\\.c}", "<a|b.c>"),
        ("${}", "<>"),
        ("${a${b}}", "<a${b>}"),
        ("${resources.db.host}:${resources.db.port}", "<resources|db|host>:<resources|db|port>"),
    ],
)
def test_substitute(source: str, expected: str) -> None:
    assert substitute(source, echo) == expected


def test_unterminated_placeholder_is_an_error() -> None:
    with pytest.raises(PlaceholderError, match="unterminated placeholder at character 4"):
        substitute("ab ${resources.db.host", echo)


def test_split_ref() -> None:
    assert split_ref("metadata.annotations.example\\.com/team") == [
        "metadata",
        "annotations",
        "example.com/team",
    ]
    assert split_ref("a") == ["a"]
    assert split_ref("a..b") == ["a", "", "b"]


def test_find_placeholders_reports_spans() -> None:
    [first, second] = find_placeholders("x ${metadata.name} $${skip} ${resources.db}")
    assert (first.ref, first.parts, first.start, first.end) == ("metadata.name", ["metadata", "name"], 2, 18)
    assert second.parts == ["resources", "db"]


def test_scanning_hostile_strings_is_linear() -> None:
    started = time.perf_counter()
    assert substitute("$${" * 200_000, echo) == "${" * 200_000
    assert find_placeholders("${a}" * 100_000)[-1].parts == ["a"]
    with pytest.raises(PlaceholderError):
        find_placeholders("${" * 200_000)
    assert time.perf_counter() - started < 2.0


def test_substitute_all_walks_values_but_not_keys() -> None:
    value = {"${k}": ["${a}", 1, None, {"x": "$${b}"}], "n": 2.5}
    assert substitute_all(value, echo) == {"${k}": ["<a>", 1, None, {"x": "${b}"}], "n": 2.5}


def test_build_resolver_follows_score_go() -> None:
    resolve = build_resolver(
        {"name": "web", "annotations": {"example.com/team": "core"}},
        {"db": {"host": "pg", "port": 5432, "nested": {"a": "b"}}, "env": {}},
    )
    text = "${metadata.name}|${metadata.annotations.example\\.com/team}"
    text += "|${resources.db.host}:${resources.db.port}"
    assert substitute(text, resolve) == "web|core|pg:5432"
    assert substitute("${resources.db.nested}", resolve) == '{"a":"b"}'
    assert json.loads(substitute("${resources.db}", resolve))["host"] == "pg"
    assert substitute("$${resources.db.host}", resolve) == "${resources.db.host}"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("${foo.bar}", "invalid ref 'foo.bar': unknown reference root, use $$ to escape the substitution"),
        ("${metadata}", "invalid ref 'metadata': requires at least a metadata key to look up"),
        ("${metadata.missing}", "invalid ref 'metadata.missing': key 'missing' not found"),
        ("${metadata.name.x}", "invalid ref 'metadata.name.x': cannot look up key 'x'"),
        ("${resources.cache.host}", "invalid ref 'resources.cache.host': no known resource 'cache'"),
        ("${resources.db.user}", "invalid ref 'resources.db.user': key 'user' not found"),
    ],
)
def test_build_resolver_errors(ref: str, message: str) -> None:
    resolve = build_resolver({"name": "web"}, {"db": {"host": "pg"}})
    with pytest.raises(PlaceholderError) as caught:
        substitute(ref, resolve)
    assert str(caught.value).startswith(message)


def test_reference_discovery(sample: Callable[[str], bytes]) -> None:
    spec = parse_document(sample("spec-readme-postgres-dns-route.yaml"), content_type=None)
    assert find_references(spec) == {"db", "dns"}
    assert resource_dependencies(spec) == {"db": set(), "dns": set(), "route": {"dns"}}
    assert container_references(spec) == {"main": {"db"}}


def test_reference_discovery_reads_both_collection_forms(minimal: dict[str, Any]) -> None:
    main = minimal["containers"]["main"]
    main["files"] = [{"target": "/a", "content": "${resources.one.x}"}]
    main["volumes"] = {"/data": {"source": "${resources.two}"}}
    main["args"] = ["${resources.ignored.x}"]
    assert container_references(minimal) == {"main": {"one", "two"}}


def test_substitutable_strings(minimal: dict[str, Any]) -> None:
    main = minimal["containers"]["main"]
    main["variables"] = {"A": "a", "N": 1}
    main["files"] = {
        "/t": {"content": "t"},
        "/b": {"binaryContent": "Yg=="},
        "/n": {"content": "n", "noExpand": True},
        "/s": {"source": "s"},
    }
    main["volumes"] = [{"target": "/v", "source": "v"}]
    minimal["resources"] = {"db": {"type": "postgres", "params": {"list": ["p", 2], "map": {"k": "q"}}}}
    assert list(iter_substitutable(minimal)) == [
        (("containers", "main", "variables", "A"), "a"),
        (("containers", "main", "files", "/t", "content"), "t"),
        (("containers", "main", "files", "/s", "source"), "s"),
        (("containers", "main", "volumes", 0, "source"), "v"),
        (("resources", "db", "params", "list", 0), "p"),
        (("resources", "db", "params", "map", "k"), "q"),
    ]


def test_compose_environment_sample_escapes(sample: Callable[[str], bytes]) -> None:
    spec = parse_document(sample("compose-02-environment-score.yaml"), content_type=None)
    variables = spec["containers"]["hello"]["variables"]
    resolve = build_resolver(spec["metadata"], {"env": {"NAME": "world"}})
    assert substitute_all(variables, resolve) == {
        "GREETING": "Hello",
        "NAME": "world",
        "WORKLOAD_NAME": "hello-world",
        "ESCAPED": "$_${fizzbuzz}",
    }
