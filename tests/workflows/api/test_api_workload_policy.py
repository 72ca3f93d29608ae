"""Workload rules at submit: Pod Security baseline in Score terms and the image allow-list, each a 400
naming the Score path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.workflows.provider_fixtures import admin_config, fresh_registry
from workflows.models import Application

__all__ = ["admin_config", "fresh_registry"]

pytestmark = pytest.mark.django_db


def spec(container: str = "", metadata: str = "", image: str = "nginx:1.27") -> str:
    return (
        f"apiVersion: score.dev/v1b1\nmetadata:\n  name: shop\n{metadata}"
        f"containers:\n  main:\n    image: {image}\n{container}"
    )


PROBE = "    {probe}:\n      httpGet:\n        host: {host}\n        port: 8080\n        path: /healthz\n"

REFUSED = {
    "liveness probe host": (
        spec(PROBE.format(probe="livenessProbe", host="169.254.169.254")),
        "containers.main.livenessProbe.httpGet.host",
        "probe-host-forbidden",
    ),
    "readiness probe on the node's localhost": (
        spec(PROBE.format(probe="readinessProbe", host="127.0.0.1")),
        "containers.main.readinessProbe.httpGet.host",
        "probe-host-forbidden",
    ),
    "unconfined AppArmor": (
        spec(
            metadata="  annotations:\n    container.apparmor.security.beta.kubernetes.io/main: unconfined\n"
        ),
        "metadata.annotations.container.apparmor.security.beta.kubernetes.io/main",
        "pod-security-annotation",
    ),
    "unconfined seccomp": (
        spec(metadata="  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\n"),
        "metadata.annotations.seccomp.security.alpha.kubernetes.io/pod",
        "pod-security-annotation",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_pod_security_violations_are_refused_with_their_path(submit: Callable[..., Any], case: str) -> None:
    text, path, code = REFUSED[case]
    response = submit(text)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [(path, code)]
    assert "Pod Security baseline" in response.json()["errors"][0]["message"]
    assert not Application.objects.exists()


def test_probe_without_host_and_allowed_profiles_are_accepted(submit: Callable[..., Any]) -> None:
    probe = "    livenessProbe:\n      httpGet:\n        port: 8080\n        path: /healthz\n"
    metadata = "  annotations:\n    container.apparmor.security.beta.kubernetes.io/main: runtime/default\n"
    assert submit(spec(probe, metadata)).status_code == 201


@pytest.fixture
def allow_list(admin_config: Callable[[dict[str, Any]], Path]) -> None:
    admin_config({"policies": {"allowedImages": ["registry.example.com/*", "docker.io/library/nginx:*"]}})


@pytest.mark.usefixtures("allow_list")
@pytest.mark.parametrize(
    "image",
    ["nginx:1.27", "docker.io/library/nginx:1.27", "registry.example.com/team/shop:1.2.3"],
)
def test_allowed_images_are_accepted(submit: Callable[..., Any], image: str) -> None:
    response = submit(spec(image=image))
    assert response.status_code == 201, response.content


@pytest.mark.usefixtures("allow_list")
@pytest.mark.parametrize(
    "image",
    ["redis:7", "evil.example.com/nginx:1.27", "registry.example.com.evil.io/shop:1", "someone/nginx:1.27"],
)
def test_other_images_are_refused_naming_the_container(submit: Callable[..., Any], image: str) -> None:
    response = submit(spec(image=image))
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [(e["path"], e["code"]) for e in errors] == [("containers.main.image", "image-not-allowed")]
    assert image in errors[0]["message"]
    assert not Application.objects.exists()


def test_without_an_allow_list_any_image_is_accepted(submit: Callable[..., Any]) -> None:
    assert submit(spec(image="quay.io/anyone/anything:1")).status_code == 201
