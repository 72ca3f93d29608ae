"""Loading the original's workflow shapes unchanged, and strict YAML handling."""

from collections.abc import Callable
from typing import Any

import pytest

from workflows.engine import (
    ParameterSpec,
    WorkflowDefinition,
    WorkflowValidationError,
    effective_dependencies,
    load_workflow,
    load_workflows,
    make_context,
    render_value,
    render_workflow_outputs,
    validate_parameters,
)

Load = Callable[..., WorkflowDefinition]

PROVIDER_STYLE = """
apiVersion: innominatus.io/v1alpha1
kind: Workflow
metadata:
  name: provision-cache
  description: Create a cache cluster for a team
parameters:
  - name: cache_name
    type: string
    required: true
  - name: size
    type: string
    default: "small"
  - name: replicas
    type: number
    default: 2
  - name: persistence
    type: boolean
    default: true
  - name: labels
    type: map
steps:
  - name: create-cache
    type: kubernetes
    config:
      operation: apply
      manifest: |
        metadata:
          name: {{ .parameters.cache_name }}
          labels:
            {{- range $key, $value := .parameters.labels }}
            {{ $key }}: "{{ $value }}"
            {{- end }}
        spec:
          replicas: {{ .parameters.replicas }}
          memory: {{ if eq .parameters.size "small" }}256Mi{{ else if eq .parameters.size "medium" -}}
            1Gi{{ else }}4Gi{{ end }}
          {{ if .parameters.persistence }}persistent: true{{ end }}
  - name: read-credentials
    type: policy
    config:
      command: |
        #!/bin/bash
        N=${#ITEMS[@]}
        curl -w "%{http_code}" https://{{ .parameters.cache_name }}
outputs:
  host: "{{ .parameters.cache_name }}.cache.svc"
  password: "{{ .steps.read-credentials.output.password }}"
"""

SPEC_WRAPPER = """
apiVersion: orchestrator.innominatus.dev/v1
kind: Workflow
metadata:
  name: parallel-deployment
  description: Parallel phases
variables:
  REGION: eu-west-1
spec:
  steps:
    - name: validate-syntax
      type: validation
      parallel: true
      parallelGroup: 1
    - name: security-scan
      type: validation
      parallel: true
      parallelGroup: 1
    - name: provision-database
      type: terraform
      path: ./terraform/database
      parallel: false
    - name: deploy-backend
      type: kubernetes
      namespace: backend
      parallel: true
    - name: deploy-frontend
      type: kubernetes
      namespace: frontend
      parallel: true
    - name: health-check
      type: validation
      description: final check
"""


def test_provider_workflow_with_go_templates_loads_and_renders(load: Load) -> None:
    defn = load(PROVIDER_STYLE)
    assert defn.name == "provision-cache"
    assert defn.description == "Create a cache cluster for a team"
    assert defn.metadata["description"] == "Create a cache cluster for a team"
    assert defn.step("read-credentials").type == "script"  # policy is an alias of script
    assert [p.type for p in defn.parameters] == ["string", "string", "number", "bool", "map"]

    params = validate_parameters(defn.parameters, {"cache_name": "c1", "labels": '{"team": "a", "app": "b"}'})
    context = make_context(
        parameters=params, steps={"read-credentials": {"status": "completed", "outputs": {"password": "pw"}}}
    )
    manifest = render_value(defn.step("create-cache").config, context)["manifest"]
    assert "name: c1" in manifest
    assert 'app: "b"\n    team: "a"' in manifest.replace("        ", "")
    assert "memory: 256Mi" in manifest
    assert "persistent: true" in manifest
    script = render_value(defn.step("read-credentials").config, context)["command"]
    assert "N=${#ITEMS[@]}" in script  # shell `{#` is text, not a template comment
    assert '"%{http_code}" https://c1' in script
    assert render_workflow_outputs(defn, context) == {"host": "c1.cache.svc", "password": "pw"}


def test_spec_wrapper_with_top_level_step_settings(load: Load) -> None:
    defn = load(SPEC_WRAPPER)
    assert defn.variables == {"REGION": "eu-west-1"}
    database = defn.step("provision-database")
    assert database.config == {"path": "./terraform/database"}
    assert defn.step("health-check").config == {"description": "final check"}
    deps = effective_dependencies(defn)
    assert deps["provision-database"] == ("validate-syntax", "security-scan")
    assert deps["deploy-frontend"] == ("provision-database",)
    assert deps["health-check"] == ("deploy-backend", "deploy-frontend")


def test_config_section_and_top_level_keys_merge(load: Load) -> None:
    defn = load(
        {
            "metadata": {"name": "m"},
            "steps": [
                {"name": "a", "type": "kubernetes", "namespace": "x", "config": {"operation": "apply"}}
            ],
        }
    )
    assert defn.step("a").config == {"operation": "apply", "namespace": "x"}


def test_parameter_list_and_mapping_forms_are_equivalent(load: Load) -> None:
    as_list = load(
        """
metadata: {name: p}
parameters:
  - {name: env, type: enum, allowedValues: [dev, prod], default: dev, description: Target}
  - {name: replicas, type: int, default: "1", min: 1, max: 10}
  - {name: ttl, type: duration, default: 2h, pattern: '^\\d+[hmd]$'}
  - {name: compress, type: bool, default: "true"}
steps: [{name: a, type: noop}]
"""
    )
    as_mapping = load(
        """
metadata: {name: p}
parameters:
  env: {type: enum, enum: [dev, prod], default: dev, description: Target}
  replicas: {type: int, default: "1", min: 1, max: 10}
  ttl: {type: duration, default: 2h, pattern: '^\\d+[hmd]$'}
  compress: {type: bool, default: "true"}
steps: [{name: a, type: noop}]
"""
    )
    assert as_list.parameters == as_mapping.parameters
    assert as_list.parameter("replicas").default == 1
    assert as_list.parameter("compress").default is True
    assert as_list.parameter("env").allowed_values == ("dev", "prod")


def test_step_field_spellings(load: Load) -> None:
    defn = load(
        """
metadata: {name: spell}
steps:
  - {name: a, type: noop}
  - {name: b, type: noop, depends_on: a, continue_on_error: true, set_variables: {x: "1"}}
  - {name: c, type: noop, dependsOn: [a, b], retries: 2, timeout: 90, outputs: [url], if: true}
  - {name: d, type: noop, retries: {limit: 1, backoff: 30}, outputs: {u: "{{ outputs.url }}"}}
"""
    )
    b, c, d = defn.step("b"), defn.step("c"), defn.step("d")
    assert b.depends_on == ("a",) and b.continue_on_error and b.set_variables == {"x": "1"}
    assert c.retries.limit == 2 and c.timeout == 90 and c.outputs == {"url": None} and c.if_expr == "true"
    assert d.retries.backoff == 30 and d.outputs == {"u": "{{ outputs.url }}"}


def test_name_argument_and_golden_path_parameters(load: Load) -> None:
    extra = ParameterSpec(name="org_name", type="string", default="platform-team")
    defn = load(
        {"steps": [{"name": "a", "type": "script", "config": {"script": "echo {{ parameters.org_name }}"}}]},
        name="team-setup",
        parameters=[extra],
    )
    assert defn.name == "team-setup"
    assert defn.parameters == (extra,)


def test_variables_set_by_steps_may_be_read_later(load: Load) -> None:
    load(
        """
metadata: {name: vars}
variables: {base: "1.0"}
steps:
  - {name: a, type: noop, setVariables: {version: "{{ variables.base }}-{{ outputs.build }}"}}
  - {name: b, type: noop, env: {V: "{{ variables.version }}"}}
"""
    )


def test_multi_document_files(load: Load) -> None:
    text = SPEC_WRAPPER + "\n---\n" + "metadata: {name: second}\nsteps: [{name: x, type: noop}]\n"
    names = [
        d.name
        for d in load_workflows(text, known_step_types={"validation", "terraform", "kubernetes", "noop"})
    ]
    assert names == ["parallel-deployment", "second"]
    with pytest.raises(WorkflowValidationError, match="expected one workflow but found 2 documents"):
        load(text)


def test_multi_document_problems_name_the_document() -> None:
    text = (
        "metadata: {name: a}\nsteps: [{name: x, type: noop}]\n---\nmetadata: {name: b}\nsteps: [{name: x}]\n"
    )
    with pytest.raises(WorkflowValidationError) as caught:
        load_workflows(text, known_step_types={"noop"})
    assert [p.path for p in caught.value.problems] == ["documents[1].steps[0].type"]


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("a: &x 1\nb: *x\n", "yaml_alias", "line 1"),
        ("metadata: {name: a}\nmetadata: {name: b}\n", "yaml_duplicate_key", "line 2"),
        ("steps: [\n", "yaml_syntax", "line 2"),
        ("a: !!binary aGVsbG8=\n", "yaml_value", ""),
        ("a: .nan\n", "yaml_value", ""),
        ("- 1\n", "invalid_type", ""),
        ("", "invalid_type", ""),
    ],
)
def test_unsafe_or_malformed_yaml(
    text: str, code: str, where: str, problems: Callable[..., list[Any]]
) -> None:
    found = problems(text)
    assert [p.code for p in found] == [code]
    assert found[0].path == where


def test_size_limit() -> None:
    with pytest.raises(WorkflowValidationError) as caught:
        load_workflow("a: " + "x" * (1024 * 1024), known_step_types={"noop"})
    assert caught.value.problems[0].code == "too_large"


def test_dates_and_yaml11_keys_stay_json_friendly(load: Load) -> None:
    defn = load("metadata: {name: d, created: 2025-10-01}\nsteps: [{name: a, type: noop, config: {on: 1}}]\n")
    assert defn.metadata["created"] == "2025-10-01"
    assert defn.step("a").config == {"true": 1}


def test_deeply_nested_document_is_refused(problems: Callable[..., list[Any]]) -> None:
    found = problems("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert found[0].code == "yaml_syntax"


def test_dict_sources_get_the_same_json_safety(problems: Callable[..., list[Any]], load: Load) -> None:
    defn = load({"metadata": {"name": "d"}, "steps": ({"name": "a", "type": "noop", "config": {1: ("x",)}},)})
    assert defn.step("a").config == {"1": ["x"]}
    assert problems({"metadata": {"name": "d"}, "steps": [{"name": "a", "type": "noop", "x": {1, 2}}]})[
        0
    ].code == ("yaml_value")
