"""Simulated controllers: the status a workload reports while rolling out, once ready, or when stuck."""

from __future__ import annotations

from typing import Any, Literal

Phase = Literal["rolling", "ready", "deadline"]
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Job"})


def _replicas(obj: dict[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas", 1)
    return value if isinstance(value, int) else 1


def _condition(kind: str, status: str, reason: str, message: str, when: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "reason": reason,
        "message": message,
        "lastUpdateTime": when,
        "lastTransitionTime": when,
    }


def workload_status(obj: dict[str, Any], phase: Phase, when: str) -> dict[str, Any]:
    """The status the kind's controller would report for `phase` (the controller always observed the spec)."""
    kind = obj.get("kind")
    generation = int((obj.get("metadata") or {}).get("generation") or 1)
    name = (obj.get("metadata") or {}).get("name", "")
    replicas = _replicas(obj)
    ready = phase == "ready"
    if kind == "Deployment":
        status: dict[str, Any] = {
            "observedGeneration": generation,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas if ready else 0,
            "availableReplicas": replicas if ready else 0,
        }
        if not ready:
            status["unavailableReplicas"] = replicas
        progressing = _condition(
            "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.', when
        )
        if ready:
            progressing = _condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
                when,
            )
        elif phase == "deadline":
            progressing = _condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{name}" has timed out progressing.',
                when,
            )
        available = _condition(
            "Available",
            "True" if ready else "False",
            "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
            "Deployment has minimum availability."
            if ready
            else "Deployment does not have minimum availability.",
            when,
        )
        status["conditions"] = [available, progressing]
        return status
    if kind == "StatefulSet":
        revision = f"{name}-{generation:08x}"
        return {
            "observedGeneration": generation,
            "replicas": replicas,
            "readyReplicas": replicas if ready else 0,
            "availableReplicas": replicas if ready else 0,
            "currentReplicas": replicas if ready else 0,
            "updatedReplicas": replicas if ready else 0,
            "currentRevision": revision if ready else f"{name}-previous",
            "updateRevision": revision,
        }
    if kind == "DaemonSet":
        # The fake cluster has one schedulable node.
        return {
            "observedGeneration": generation,
            "desiredNumberScheduled": 1,
            "currentNumberScheduled": 1,
            "updatedNumberScheduled": 1,
            "numberReady": 1 if ready else 0,
            "numberAvailable": 1 if ready else 0,
            "numberMisscheduled": 0,
        }
    if kind == "Job":
        completions = (obj.get("spec") or {}).get("completions", 1)
        if ready:
            return {
                "succeeded": completions,
                "startTime": when,
                "completionTime": when,
                "conditions": [_condition("Complete", "True", "", "", when)],
            }
        return {"active": 1, "startTime": when}
    return {}
