"""Workload rules checked at submit: Pod Security baseline in Score terms and the image allow-list."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from workflows.score.errors import ScoreProblem
from workflows.score.pod_security import annotation_violation

PROBES = ("livenessProbe", "readinessProbe")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def pod_security_problems(document: Mapping[str, Any], lines: Mapping[str, int]) -> list[ScoreProblem]:
    """What a Score workload asks for that Pod Security baseline forbids: probe hosts, unconfined profiles."""
    problems: list[ScoreProblem] = []
    for name, container in _mapping(document.get("containers")).items():
        for probe in PROBES:
            http = _mapping(_mapping(_mapping(container).get(probe)).get("httpGet"))
            if http.get("host"):
                problems.append(
                    ScoreProblem.at(
                        ("containers", name, probe, "httpGet", "host"),
                        code="probe-host-forbidden",
                        message=(
                            "probes may not name a host (Pod Security baseline): the kubelet would send "
                            "requests to any address; leave 'host' out to probe the pod itself"
                        ),
                        lines=lines,
                    )
                )
    for key, value in _mapping(_mapping(document.get("metadata")).get("annotations")).items():
        reason = annotation_violation(str(key), value)
        if reason:
            problems.append(
                ScoreProblem.at(
                    ("metadata", "annotations", key),
                    code="pod-security-annotation",
                    message=f"{reason} (Pod Security baseline)",
                    lines=lines,
                )
            )
    return problems


def image_problems(
    document: Mapping[str, Any], allowed: Callable[[str], bool], lines: Mapping[str, int]
) -> list[ScoreProblem]:
    """Containers whose image the platform's allow-list refuses."""
    problems: list[ScoreProblem] = []
    for name, container in _mapping(document.get("containers")).items():
        image = _mapping(container).get("image")
        # '.' (build it yourself) is refused on its own account.
        if isinstance(image, str) and image not in ("", ".") and not allowed(image):
            problems.append(
                ScoreProblem.at(
                    ("containers", name, "image"),
                    code="image-not-allowed",
                    message=f"image {image!r} is not allowed on this platform: it matches no allowed image pattern",
                    lines=lines,
                )
            )
    return problems
