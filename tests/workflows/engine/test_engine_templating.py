"""Sandboxed templating: rendering, Go-style translation, references, escape attempts, size guards."""

from typing import Any

import pytest

from workflows.engine import (
    TemplateRenderError,
    TemplateSyntaxError,
    make_context,
    normalize_go_style,
    render,
    render_value,
    template_references,
)

CONTEXT = make_context(
    parameters={
        "env": "prod",
        "name": "web",
        "size": "medium",
        "tags": ["a", "b"],
        "labels": {"z": 1, "a": 2},
    },
    variables={"region": "eu"},
    steps={"get-creds": {"status": "completed", "outputs": {"user": "admin"}}},
    app={"name": "shop"},
)


def test_render_basics() -> None:
    assert render("{{ parameters.name }}-{{ variables.region }}", CONTEXT) == "web-eu"
    assert render("plain text, no template", CONTEXT) == "plain text, no template"
    assert render("{{ steps['get-creds'].outputs.user }}", CONTEXT) == "admin"
    assert (
        render("{{ steps['get-creds'].output.user }}/{{ steps['get-creds'].status }}", CONTEXT)
        == "admin/completed"
    )
    assert render("[{{ execution.missing_ok | default('x') }}]", CONTEXT) == "[x]"
    assert render("{{ none }}|", {"none": None}) == "|"  # None renders empty
    assert render("a\n", CONTEXT) == "a\n"
    assert render("{{ 'x' }}\n", CONTEXT) == "x\n"  # trailing newline kept


def test_undefined_names_fail_with_the_value_path() -> None:
    with pytest.raises(TemplateRenderError) as caught:
        render_value({"spec": {"items": ["ok", "{{ parameters.nope }}"]}}, CONTEXT, "config")
    assert caught.value.path == "config.spec.items[1]"
    assert "nope" in caught.value.message


def test_render_value_renders_nested_strings_only() -> None:
    value = {"a": ["{{ parameters.env }}", 3, None, True], "{{ key }}": {"b": "{{ app.name }}"}}
    assert render_value(value, CONTEXT) == {"a": ["prod", 3, None, True], "{{ key }}": {"b": "shop"}}


@pytest.mark.parametrize(
    ("go", "jinja"),
    [
        ("{{ .parameters.x }}", "{{ parameters.x }}"),
        ("{{.parameters.x}}", "{{parameters.x}}"),
        ("{{- .a.b -}}", "{{- a.b -}}"),
        ("{{ .steps.get-creds.output.user }}", "{{ steps['get-creds'].output.user }}"),
        ('{{ ".not.a.path" }}', '{{ ".not.a.path" }}'),
        ("keep .outside {{ .x }} text .y", "keep .outside {{ x }} text .y"),
        ("{{ obj.attr }}", "{{ obj.attr }}"),
        ("{% if .parameters.on %}x{% endif %}", "{% if parameters.on %}x{% endif %}"),
        ("{% raw %}{{ .x }}{% endraw %}{{ .y }}", "{% raw %}{{ .x }}{% endraw %}{{ y }}"),
        ("{{ $key }}", "{{ key }}"),
        (
            '{{ if eq .p.size "s" }}S{{ else if ne .p.size "m" }}L{{ else }}M{{ end }}',
            '{% if (p.size == "s") %}S{% elif (p.size != "m") %}L{% else %}M{% endif %}',
        ),
        ("{{ if and .a (not .b) }}y{{ end }}", "{% if (a and (not b)) %}y{% endif %}"),
        ("{{ if gt (len .items) 2 }}y{{ end }}", "{% if ((items | length) > 2) %}y{% endif %}"),
        ("{{ range $k, $v := .m }}{{ $k }}{{ end }}", "{% for k, v in m | go_pairs %}{{ k }}{% endfor %}"),
        ("{{ range $v := .l }}{{ $v }}{{ end }}", "{% for v in l | go_values %}{{ v }}{% endfor %}"),
        ("{{ with .x }}{{ . }}{{ end }}", "{{ with x }}{{ . }}{{ end }}"),
        ("{{ if eq .a `raw` }}y{{ end }}", "{% if (a == 'raw') %}y{% endif %}"),
    ],
)
def test_normalize_go_style(go: str, jinja: str) -> None:
    assert normalize_go_style(go) == jinja


def test_go_style_renders_like_the_original() -> None:
    template = (
        'size: {{ if eq .parameters.size "small" }}5Gi{{ else if eq .parameters.size "medium" }}20Gi'
        "{{ else }}100Gi{{ end }}\n"
        "{{- range $k, $v := .parameters.labels }}\n{{ $k }}={{ $v }}{{- end }}\n"
        "{{ range $t := .parameters.tags }}[{{ $t }}]{{ end }}\n"
        "{{ range $k, $v := .parameters.missing_is_fine }}{{ $k }}{{ end }}"
        "{{/* a Go comment */}}"
    )
    context = {**CONTEXT, "parameters": {**CONTEXT["parameters"], "missing_is_fine": None}}
    assert render(template, context) == "size: 20Gi\na=2\nz=1\n[a][b]\n"


def test_template_references() -> None:
    refs = template_references(
        "{{ .parameters.env }} {{ steps['get-creds'].outputs.user | upper }} {{ parameters[variables.k].x }}"
        "{% for t in parameters.tags %}{{ t.name }}{{ loop.index }}{% endfor %}{{ range(3) | list }}"
        "{% set local = 1 %}{{ local }}{{ app }}"
    )
    # `parameters[variables.k]` has a dynamic key, so it only reads `parameters` (implied by the others).
    assert refs == {
        ("parameters", "env"),
        ("steps", "get-creds", "outputs", "user"),
        ("variables", "k"),
        ("parameters", "tags"),
        ("app",),
    }
    assert template_references("no template here") == set()


def test_template_syntax_errors() -> None:
    with pytest.raises(TemplateSyntaxError, match="line 2"):
        template_references("ok\n{{ x ")
    with pytest.raises(TemplateSyntaxError):
        render("{% if %}", CONTEXT, path="config.x")


@pytest.mark.parametrize(
    "attack",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ ().__class__.__bases__[0] }}",
        "{{ parameters.__class__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ joiner.__init__.__globals__ }}",
        "{{ range.__globals__ }}",
        "{{ self._TemplateReference__context }}",
        "{{ parameters.tags.append('x') }}",
        "{{ parameters.labels.update({'a': 1}) }}",
        "{{ parameters.labels.pop('a') }}",
        "{{ 'a{0.__class__}'.format(1) }}",
        "{{ lipsum(1000) }}",
        "{{ namespace(a=1) }}",
        "{{ config }}",
        "{{ request }}",
    ],
)
def test_sandbox_escape_attempts_fail(attack: str) -> None:
    with pytest.raises(TemplateRenderError):
        render(attack, CONTEXT)
    assert CONTEXT["parameters"]["tags"] == ["a", "b"]


@pytest.mark.parametrize(
    "construct",
    [
        "{% macro m() %}x{% endmacro %}",
        "{% include 'other' %}",
        "{% import 'other' as o %}",
        "{% from 'x' import y %}",
        "{% extends 'base' %}",
        "{% block b %}x{% endblock %}",
        "{% call foo() %}x{% endcall %}",
    ],
)
def test_constructs_that_recurse_or_load_templates_are_refused(construct: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="not allowed"):
        render(construct, CONTEXT)


@pytest.mark.parametrize(
    "bomb",
    [
        "{{ 'a' * 2000000 }}",
        "{{ [0] * 2000000 }}",
        "{{ 2000000 * 'a' }}",
        "{{ 9 ** 100000 }}",
        "{% set a = 'x' * 1000000 %}{{ a ~ a }}",
        "{% set a = 'x' * 1000000 %}{{ a + a }}",
        "{{ 'a'.ljust(100000000) }}",
        "{{ 'a'.center(100000000) }}",
        "{{ 'ab'.replace('', 'x' * 1000) * 1 }}{{ ('x' * 1000).replace('x', 'y' * 2000) }}",
        "{{ 'a\tb'.expandtabs(10000000) }}",
        "{{ '-'.join(['x' * 600000, 'y' * 600000]) }}",
        "{{ ['x' * 600000, 'y' * 600000] | join }}",
        "{{ 'x' | center(100000000) }}",
        "{{ ('x\n' * 1000) | indent(10000) }}",
        "{{ '%0999999d' | format(1) }}",
        "{{ '%*d' % (100000000, 1) }}",
        "{{ 'x' | replace('x', 'y' * 2000000) }}",
        "{{ ('x' * 1000) | wordwrap(1, wrapstring='y' * 2000) }}",
        "{{ [1] | batch(100000000, 0) | list }}",
        "{{ [1] | slice(100000000) | list }}",
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
    ],
)
def test_resource_exhaustion_is_refused(bomb: str) -> None:
    with pytest.raises(TemplateRenderError):
        render(bomb, CONTEXT)


def test_reasonable_templates_still_work() -> None:
    template = (
        "{% for i in range(3) %}{{ i }}{% endfor %}|{{ 'ab' * 3 }}|{{ [1] + [2] }}|{{ 2 ** 10 }}|"
        "{{ parameters.name | upper | replace('W', 'w') }}|{{ parameters.tags | join(',') }}|"
        "{{ '%05d' | format(42) }}|{{ parameters.name.replace('w', 'W') }}|{{ 'x' | center(5) }}|"
        "{{ parameters.tags | batch(1) | list | length }}|{{ 'a' ~ 'b' }}|"
        "{{ parameters.labels | dictsort | first }}"
    )
    assert render(template, CONTEXT) == "012|ababab|[1, 2]|1024|wEB|a,b|00042|Web|  x  |2|ab|('a', 2)"


def test_shell_scripts_survive() -> None:
    script = 'echo ${#ARR[@]} {# not a comment #} "%{http_code}" ${VAR:-x} {{ parameters.name }}'
    assert render(script, CONTEXT) == 'echo ${#ARR[@]} {# not a comment #} "%{http_code}" ${VAR:-x} web'


def test_make_context_shapes_steps() -> None:
    context = make_context(steps={"a": {"outputs": {"x": 1}}})
    assert context["steps"]["a"] == {"status": "pending", "outputs": {"x": 1}, "output": {"x": 1}}
    assert set(context) == {"parameters", "variables", "steps", "resources", "app", "execution"}


def test_errors_from_filters_become_render_errors() -> None:
    with pytest.raises(TemplateRenderError, match="ZeroDivisionError"):
        render("{{ 1 // 0 }}", {})
    value: Any = {"a": "{{ 1 // 0 }}"}
    with pytest.raises(TemplateRenderError) as caught:
        render_value(value, {}, "outputs")
    assert caught.value.path == "outputs.a"
