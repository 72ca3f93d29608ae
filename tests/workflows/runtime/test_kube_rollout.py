"""`kubectl rollout status` semantics, as pure functions over workload objects."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.runtime.errors import RolloutFailed
from workflows.runtime.manifests import apply_order, describe, object_ref, parse_manifests
from workflows.runtime.rollout import rollout_status


def workload(
    kind: str, generation: int = 1, spec: dict[str, Any] | None = None, **status: Any
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": "w", "generation": generation},
        "spec": spec or {},
        "status": status,
    }


@pytest.mark.parametrize(
    ("status", "done", "message"),
    [
        ({}, False, "spec update to be observed"),
        ({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 1}, False, "1 out of 3 new replicas"),
        ({"observedGeneration": 1, "replicas": 4, "updatedReplicas": 3}, False, "1 old replicas"),
        (
            {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2},
            False,
            "2 of 3",
        ),
        (
            {
                "observedGeneration": 1,
                "replicas": 3,
                "updatedReplicas": 3,
                "availableReplicas": 3,
                "unavailableReplicas": 1,
            },
            False,
            "3 of 3",
        ),
        (
            {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3},
            True,
            "rolled out",
        ),
    ],
)
def test_deployment(status: dict[str, Any], done: bool, message: str) -> None:
    result = rollout_status(workload("Deployment", spec={"replicas": 3}, **status))
    assert result.done is done and message in result.message


def test_deployment_with_an_older_observed_generation_waits() -> None:
    status = {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
    assert not rollout_status(workload("Deployment", generation=2, **status)).done


def test_deployment_progress_deadline_is_a_failure() -> None:
    condition = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    with pytest.raises(RolloutFailed, match="exceeded its progress deadline"):
        rollout_status(workload("Deployment", observedGeneration=1, conditions=[condition]))


def test_statefulset() -> None:
    spec = {"replicas": 2}
    assert not rollout_status(workload("StatefulSet", spec=spec, observedGeneration=1, readyReplicas=1)).done
    revisions = {"observedGeneration": 1, "readyReplicas": 2, "currentRevision": "a", "updateRevision": "b"}
    assert not rollout_status(workload("StatefulSet", spec=spec, **revisions)).done
    assert rollout_status(workload("StatefulSet", spec=spec, **{**revisions, "currentRevision": "b"})).done
    partitioned = {**spec, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}
    assert rollout_status(
        workload("StatefulSet", spec=partitioned, **{**revisions, "updatedReplicas": 1})
    ).done
    on_delete = {"updateStrategy": {"type": "OnDelete"}}
    assert rollout_status(workload("StatefulSet", spec=on_delete)).done


def test_daemonset() -> None:
    base = {"observedGeneration": 1, "desiredNumberScheduled": 3}
    assert not rollout_status(workload("DaemonSet", **base, updatedNumberScheduled=2)).done
    assert not rollout_status(workload("DaemonSet", **base, updatedNumberScheduled=3, numberAvailable=2)).done
    assert rollout_status(workload("DaemonSet", **base, updatedNumberScheduled=3, numberAvailable=3)).done


def test_other_kinds_have_no_rollout() -> None:
    with pytest.raises(ValueError, match="not available"):
        rollout_status(workload("Job"))


def test_manifests_parse_yaml_lists_and_order_dependencies_first() -> None:
    text = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
---
apiVersion: v1
kind: List
items:
  - {apiVersion: apps/v1, kind: Deployment, metadata: {name: d}}
  - {apiVersion: v1, kind: Service, metadata: {name: s}}
---
---
apiVersion: v1
kind: Namespace
metadata: {name: n}
"""
    ordered = apply_order(parse_manifests(text))
    assert [m["kind"] for m in ordered] == ["Namespace", "Service", "Deployment", "HTTPRoute"]
    assert parse_manifests([{"kind": "A"}, "kind: B\n---\nkind: C"]) == [
        {"kind": "A"},
        {"kind": "B"},
        {"kind": "C"},
    ]
    with pytest.raises(ValueError, match="must be a mapping"):
        parse_manifests([1])
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_manifests("a: [")


def test_object_refs_name_objects_without_their_data() -> None:
    secret = {"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "cHc="}}
    ref = object_ref(secret, "team")
    assert ref == {"kind": "Secret", "name": "db", "namespace": "team"}
    assert describe(ref) == "Secret team/db"
    assert describe(object_ref({"kind": "Namespace", "metadata": {"name": "team"}}, "x")) == "Namespace team"
