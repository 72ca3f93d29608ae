"""Parsing refuses hostile and malformed documents quickly, with a location for every problem."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from workflows.score import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    ScoreValidationError,
    load_document,
    parse_document,
    yaml_reader,
)

PARSERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])


@pytest.fixture(autouse=True, params=PARSERS, ids=lambda cls: cls.__name__)
def parser_class(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test with libyaml's parser and with the pure-Python one: both must behave alike."""
    monkeypatch.setattr(yaml_reader, "PARSER_CLASS", request.param)


def refusal(
    text: str | bytes,
    *,
    content_type: str | None = None,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ScoreValidationError) as caught:
        parse_document(text, content_type=content_type, max_bytes=max_bytes, max_depth=max_depth)
    return [(p.code, p.pointer, p.line) for p in caught.value.problems]


BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)),
    ]
)


def test_yaml_scalars_follow_the_yaml_1_2_core_schema() -> None:
    data = parse_document(
        "a: yes\nb: on\nc: 2024-01-01\nd: 0600\ne: 0x1F\nf: 1.5\ng: ~\nh: true\ni: '7'\nj: 0o17\nk: 1e3\n",
        content_type=None,
    )
    assert data == {
        "a": "yes",
        "b": "on",
        "c": "2024-01-01",
        "d": 600,
        "e": 31,
        "f": 1.5,
        "g": None,
        "h": True,
        "i": "7",
        "j": 15,
        "k": 1000.0,
    }


def test_keys_are_always_strings() -> None:
    assert parse_document("1: a\ntrue: b\n~: c\n", content_type=None) == {"1": "a", "true": "b", "~": "c"}


def test_line_map_records_each_key() -> None:
    parsed = load_document("a:\n  b:\n    - x\n    - y: 1\n", content_type=None)
    assert parsed.lines["/a"] == 1
    assert parsed.lines["/a/b"] == 2
    assert parsed.lines["/a/b/1"] == 4
    assert parsed.lines["/a/b/1/y"] == 4


def test_duplicate_keys_are_refused_with_path_and_line() -> None:
    with pytest.raises(ScoreValidationError) as caught:
        parse_document("a:\n  b: 1\n  c: 2\n  b: 3\nd: 1\nd: 2\n", content_type=None)
    problems = caught.value.problems
    assert [(p.code, p.pointer, p.line) for p in problems] == [
        ("duplicate-key", "/a/b", 4),
        ("duplicate-key", "/d", 6),
    ]
    assert problems[0].message == "duplicate key 'b' (first defined on line 2)"
    assert problems[0].path == "a.b"


def test_quoted_and_plain_spellings_of_a_key_are_duplicates() -> None:
    assert refusal('name: a\n"name": b\n') == [("duplicate-key", "/name", 2)]


def test_duplicate_keys_in_json_are_refused_with_path() -> None:
    text = '{"a": {"b": 1, "b": 2}, "c": [{"d": 1, "d": 1}]}'
    assert refusal(text, content_type="application/json") == [
        ("duplicate-key", "/a/b", None),
        ("duplicate-key", "/c/0/d", None),
    ]


def test_billion_laughs_is_refused_in_milliseconds() -> None:
    started = time.perf_counter()
    with pytest.raises(ScoreValidationError) as caught:
        parse_document(BILLION_LAUGHS, content_type="application/yaml")
    assert time.perf_counter() - started < 2.0
    [problem] = caught.value.problems
    assert (problem.code, problem.pointer, problem.line) == ("yaml-anchor-forbidden", "/a", 1)
    assert "anchors (&a) are not allowed" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "base: &base {x: 1}\nother:\n  <<: *base\n",
        "a: *undefined\n",
        "a: !!str &x value\n",
        "? &k key\n: value\n",
    ],
)
def test_any_anchor_or_alias_is_refused(text: str) -> None:
    assert [code for code, _, _ in refusal(text)] == ["yaml-anchor-forbidden"]


def test_oversized_document_is_refused_before_parsing() -> None:
    broken = "a: [" * 100
    assert refusal(broken, max_bytes=50) == [("document-too-large", "", None)]
    assert refusal(broken.encode(), max_bytes=50) == [("document-too-large", "", None)]
    # Multi-byte characters count as bytes, not characters.
    assert refusal("a: " + "é" * 30, max_bytes=40) == [("document-too-large", "", None)]


def test_default_size_limit_is_512_kib() -> None:
    fits = "a: " + "x" * (512 * 1024 - 4) + "\n"
    assert parse_document(fits, content_type=None)["a"].startswith("x")
    assert refusal(fits + " ") == [("document-too-large", "", None)]


def test_multiple_documents_are_refused() -> None:
    assert refusal("a: 1\n---\nb: 2\n") == [("multiple-documents", "", 2)]
    assert refusal("a: 1\n---\n") == [("multiple-documents", "", 2)]
    assert parse_document("---\na: 1\n...\n", content_type=None) == {"a": 1}


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("- a\n- b\n", None),
        ("just text", None),
        ("", None),
        ("~\n", None),
        ("# only a comment\n", None),
        ("[1, 2]", "application/json"),
        ('"text"', "application/json"),
    ],
)
def test_top_level_must_be_a_mapping(text: str, content_type: str | None) -> None:
    assert [code for code, _, _ in refusal(text, content_type=content_type)] == ["not-a-mapping"]


def test_nesting_depth_is_limited() -> None:
    deep = "a: " + "[" * 70 + "]" * 70
    [(code, _, line)] = refusal(deep)
    assert (code, line) == ("too-deep", 1)
    assert parse_document("a: " + "[" * 10 + "]" * 10, content_type=None, max_depth=11)
    assert refusal("a: " + "[" * 10 + "]" * 10, max_depth=10)[0][0] == "too-deep"
    assert refusal('{"a": ' + "[" * 70 + "]" * 70 + "}", content_type="application/json")[0][0] == "too-deep"
    assert (
        refusal('{"a": ' + "[" * 5000 + "]" * 5000 + "}", content_type="application/json")[0][0] == "too-deep"
    )


def test_yaml_syntax_errors_carry_line_and_column() -> None:
    with pytest.raises(ScoreValidationError) as caught:
        parse_document("a: 1\nb: [1, 2\nc: 3\n", content_type=None)
    [problem] = caught.value.problems
    assert problem.code == "yaml-syntax"
    assert problem.line == 3
    assert "(line 3, column 2)" in problem.message


def test_json_input_is_read_by_content_type_or_by_sniffing() -> None:
    document = {"apiVersion": "score.dev/v1b1", "metadata": {"name": "x"}, "n": 1.5}
    text = json.dumps(document)
    assert parse_document(text, content_type="application/json; charset=utf-8") == document
    assert parse_document(text.encode(), content_type=None) == document
    assert parse_document(text, content_type="application/yaml") == document
    # A YAML flow mapping that is not JSON still parses when no content type is given.
    assert parse_document("{a: 1, b: yes}", content_type=None) == {"a": 1, "b": "yes"}


def test_json_syntax_errors_carry_the_line() -> None:
    assert refusal('{\n  "a": 1,\n}', content_type="application/json") == [("json-syntax", "", 3)]


@pytest.mark.parametrize("text", ["a: .inf\n", "a: -.Inf\n", "a: .nan\n", "a: 1e999\n", "a: " + "9" * 5000])
def test_numbers_json_cannot_hold_are_refused(text: str) -> None:
    assert refusal(text) == [("invalid-number", "/a", 1)]


@pytest.mark.parametrize(
    "text", ['{"a": NaN}', '{"a": -Infinity}', '{"a": 1e999}', '{"a": ' + "9" * 5000 + "}"]
)
def test_json_numbers_json_cannot_hold_are_refused(text: str) -> None:
    assert [code for code, _, _ in refusal(text, content_type="application/json")] == ["invalid-number"]


@pytest.mark.parametrize(
    "text",
    ["a: !!binary aGVsbG8=\n", "a: !!python/object:os.system x\n", "a: !custom x\n", "a: !!set {x}\n"],
)
def test_tags_beyond_json_types_are_refused(text: str) -> None:
    assert refusal(text) == [("unsupported-tag", "/a", 1)]


def test_core_tags_are_honoured() -> None:
    data = parse_document("a: !!str 123\nb: !!int '7'\nc: !!float 2\nd: ! 12\n", content_type=None)
    assert data == {"a": "123", "b": 7, "c": 2.0, "d": "12"}
    assert refusal("a: !!bool yes\n") == [("invalid-scalar", "/a", 1)]


def test_complex_keys_are_refused() -> None:
    assert refusal("? [a, b]\n: 1\n") == [("complex-key", "", 1)]


def test_encoding() -> None:
    assert refusal(b"a: \xff\xfe\n") == [("invalid-encoding", "", None)]
    assert parse_document(b"\xef\xbb\xbfa: 1\n", content_type=None) == {"a": 1}
    assert parse_document("\ufeffa: 1\n", content_type=None) == {"a": 1}
    assert refusal("a: \x00\n")[0][0] == "yaml-syntax"


def test_a_flood_of_duplicates_is_reported_briefly() -> None:
    problems = refusal("".join(f"k{i % 3}: {i}\n" for i in range(5000)))
    assert len(problems) == 101
    assert problems[-1] == ("too-many-problems", "", None)
