"""Retry policy arithmetic and the JSON snapshot round trip of workflow definitions."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from workflows.engine import RetryPolicy, WorkflowDefinition

REPO = Path(__file__).resolve().parents[3]


def test_backoff_doubles_per_attempt() -> None:
    policy = RetryPolicy(limit=5, backoff=5, max_backoff=300)
    assert [policy.delay_for(attempt) for attempt in range(1, 6)] == [5, 10, 20, 40, 80]


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(limit=10, backoff=10, max_backoff=60)
    assert policy.delay_for(3) == 40
    assert policy.delay_for(4) == 60
    assert policy.delay_for(10**6) == 60  # no overflow on absurd attempt numbers


def test_attempts_are_numbered_from_one() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(limit=1).delay_for(0)


def test_should_retry_counts_the_first_run() -> None:
    policy = RetryPolicy(limit=2)
    assert [policy.should_retry(made) for made in (1, 2, 3)] == [True, True, False]
    assert not RetryPolicy().should_retry(1)


FULL = """
apiVersion: innominatus.io/v1alpha1
kind: Workflow
metadata: {name: full, description: everything, owner: team-a}
parameters:
  - {name: env, type: enum, allowed_values: [dev, prod], default: dev}
  - {name: replicas, type: int, min: 1, max: 5, default: "2"}
  - {name: ttl, type: duration, max: 1d, default: 2h}
variables: {region: eu, nested: {a: [1, 2]}}
timeout: 1h
steps:
  - name: build
    type: script
    env: {MODE: fast}
    retries: {limit: 3, backoff: 10s, maxBackoff: 2m}
    timeout: 5m
    outputs: [image]
    config: {script: "echo {{ parameters.env }}"}
  - name: approve
    type: approval
    when: manual
  - name: deploy
    type: kubernetes
    dependsOn: [build, approve]
    if: parameters.env == 'prod'
    unless: variables.region == 'us'
    parallelGroup: 2
    continueOnError: true
    outputs: {url: "https://{{ outputs.host }}"}
    setVariables: {deployed: "{{ outputs.url }}"}
    namespace: web
outputs:
  url: "{{ steps.deploy.outputs.url }}"
"""


def test_snapshot_round_trips_through_json(load: Callable[..., WorkflowDefinition]) -> None:
    defn = load(FULL)
    snapshot = json.loads(json.dumps(defn.to_dict()))
    assert WorkflowDefinition.from_dict(snapshot) == defn
    assert snapshot["steps"][2]["config"] == {"namespace": "web"}
    assert snapshot["steps"][0]["retries"] == {"limit": 3, "backoff": 10.0, "max_backoff": 120.0}


def test_snapshot_version_is_checked(load: Callable[..., WorkflowDefinition]) -> None:
    snapshot = load(FULL).to_dict()
    snapshot["snapshot_version"] = 99
    with pytest.raises(ValueError, match="snapshot version"):
        WorkflowDefinition.from_dict(snapshot)


def test_lookup_helpers(load: Callable[..., WorkflowDefinition]) -> None:
    defn = load(FULL)
    assert defn.step_names == ["build", "approve", "deploy"]
    assert defn.step("deploy").parallel_group == "2"
    assert defn.parameter("replicas").default == 2
    with pytest.raises(KeyError):
        defn.step("nope")
    with pytest.raises(KeyError):
        defn.parameter("nope")


def test_engine_imports_nothing_from_django() -> None:
    code = "import sys, workflows.engine; sys.exit(any(m.split('.')[0] == 'django' for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr or "workflows.engine imported django"
