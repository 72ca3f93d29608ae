"""`kubectl rollout status` semantics for Deployments, StatefulSets and DaemonSets, as pure functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflows.runtime.errors import RolloutFailed

ROLLOUT_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})


@dataclass(frozen=True)
class RolloutStatus:
    """Whether a rollout has finished, and what it is waiting for when it has not."""

    done: bool
    message: str


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def rollout_status(obj: Mapping[str, Any]) -> RolloutStatus:
    """Rollout progress of a workload object; raises RolloutFailed when it can no longer succeed."""
    kind = obj.get("kind", "")
    if kind == "Deployment":
        return deployment_status(obj)
    if kind == "StatefulSet":
        return statefulset_status(obj)
    if kind == "DaemonSet":
        return daemonset_status(obj)
    raise ValueError(f"rollout status is not available for kind {kind!r}")


def _observed(obj: Mapping[str, Any]) -> bool:
    generation = _int(obj.get("metadata", {}).get("generation"))
    observed = obj.get("status", {}).get("observedGeneration")
    return observed is not None and generation <= _int(observed)


def deployment_status(obj: Mapping[str, Any]) -> RolloutStatus:
    """A Deployment is done when every replica is updated and available and nothing is unavailable."""
    name = obj.get("metadata", {}).get("name", "")
    spec = obj.get("spec", {}) or {}
    status = obj.get("status", {}) or {}
    if not _observed(obj):
        return RolloutStatus(False, f"waiting for deployment {name!r} spec update to be observed")
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            raise RolloutFailed(f"deployment {name!r} exceeded its progress deadline")
    wanted = _int(spec.get("replicas", 1))
    replicas = _int(status.get("replicas"))
    updated = _int(status.get("updatedReplicas"))
    available = _int(status.get("availableReplicas"))
    unavailable = _int(status.get("unavailableReplicas"))
    if updated < wanted:
        return RolloutStatus(False, f"{updated} out of {wanted} new replicas of {name!r} have been updated")
    if replicas > updated:
        return RolloutStatus(False, f"{replicas - updated} old replicas of {name!r} are pending termination")
    if available < updated or unavailable > 0:
        return RolloutStatus(False, f"{available} of {updated} updated replicas of {name!r} are available")
    return RolloutStatus(True, f"deployment {name!r} successfully rolled out")


def statefulset_status(obj: Mapping[str, Any]) -> RolloutStatus:
    """A StatefulSet is done when all pods are ready and the update revision is current."""
    name = obj.get("metadata", {}).get("name", "")
    spec = obj.get("spec", {}) or {}
    status = obj.get("status", {}) or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return RolloutStatus(True, f"statefulset {name!r} uses {strategy.get('type')}; nothing to wait for")
    if not status.get("observedGeneration") or not _observed(obj):
        return RolloutStatus(False, f"waiting for statefulset {name!r} spec update to be observed")
    wanted = _int(spec.get("replicas", 1))
    if _int(status.get("readyReplicas")) < wanted:
        ready = _int(status.get("readyReplicas"))
        return RolloutStatus(False, f"waiting for {wanted - ready} pods of {name!r} to be ready")
    partition = (strategy.get("rollingUpdate") or {}).get("partition")
    if partition is not None:
        if _int(status.get("updatedReplicas")) < wanted - _int(partition):
            return RolloutStatus(False, f"waiting for partitioned roll out of {name!r} to finish")
        return RolloutStatus(True, f"partitioned roll out of statefulset {name!r} complete")
    if status.get("updateRevision") != status.get("currentRevision"):
        return RolloutStatus(False, f"waiting for statefulset {name!r} rolling update to complete")
    return RolloutStatus(True, f"statefulset {name!r} rolling update complete")


def daemonset_status(obj: Mapping[str, Any]) -> RolloutStatus:
    """A DaemonSet is done when every scheduled pod is updated and available."""
    name = obj.get("metadata", {}).get("name", "")
    spec = obj.get("spec", {}) or {}
    status = obj.get("status", {}) or {}
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return RolloutStatus(True, f"daemonset {name!r} uses {strategy.get('type')}; nothing to wait for")
    if not _observed(obj):
        return RolloutStatus(False, f"waiting for daemonset {name!r} spec update to be observed")
    desired = _int(status.get("desiredNumberScheduled"))
    updated = _int(status.get("updatedNumberScheduled"))
    if updated < desired:
        return RolloutStatus(False, f"{updated} out of {desired} new pods of {name!r} have been updated")
    available = _int(status.get("numberAvailable"))
    if available < desired:
        return RolloutStatus(False, f"{available} of {desired} updated pods of {name!r} are available")
    return RolloutStatus(True, f"daemon set {name!r} successfully rolled out")
