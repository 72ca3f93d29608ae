"""Manifest validation against the real Kubernetes schemas (kubernetes-validate, strict)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_validate import utils as kv

from workflows.runtime.validation import (
    check_manifest,
    default_k8s_version,
    schema_version,
    validate_manifest,
)


def deployment(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "nginx", "ports": [{"containerPort": 80}]}]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {**base, **spec},
    }


def test_a_valid_deployment_passes() -> None:
    assert validate_manifest(deployment()) == []


def test_replicas_must_be_an_integer() -> None:
    errors = validate_manifest(deployment(replicas="three"))
    assert errors == ["Deployment/web: spec.replicas: 'three' is not of type 'integer', 'null'"]


def test_unknown_fields_are_errors_in_strict_mode() -> None:
    manifest = deployment()
    manifest["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    (error,) = validate_manifest(manifest)
    assert error.startswith("Deployment/web: spec.template.spec.containers[0]: Additional properties")
    assert "imagePullPolice" in error


def test_every_problem_is_reported_at_once() -> None:
    manifest = deployment(replicas="three", paused="no")
    assert len(validate_manifest(manifest)) == 2


def test_identity_fields_are_required() -> None:
    assert validate_manifest({"kind": "ConfigMap", "metadata": {}}) == [
        "ConfigMap/?: apiVersion is required",
        "ConfigMap/?: metadata.name is required",
    ]
    assert validate_manifest(["not", "a", "mapping"]) == ["manifest must be a mapping, not list"]


def test_custom_resources_have_no_schema_and_only_warn_unless_required() -> None:
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r"}}
    check = check_manifest(route)
    assert check.errors == []
    assert check.warnings == [
        "HTTPRoute/r: no schema for HTTPRoute gateway.networking.k8s.io/v1 "
        f"in Kubernetes {default_k8s_version()}; not validated"
    ]
    assert validate_manifest(route, require_schema=True) == check.warnings


def test_a_custom_group_reusing_a_builtin_kind_name_is_not_validated_as_the_builtin() -> None:
    custom = {"apiVersion": "apps.example.com/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": 1}
    check = check_manifest(custom)
    assert check.errors == [] and "no schema" in check.warnings[0]


def test_versions_pick_the_newest_schema_not_newer_than_asked() -> None:
    assert default_k8s_version() == kv.latest_version()
    assert schema_version("v1.30.4") == "1.30.0"
    assert schema_version("1.99") == kv.latest_version()
    with pytest.raises(ValueError, match="no schemas"):
        schema_version("1.2")
    assert check_manifest(deployment(), "banana").errors == ["not a Kubernetes version: 'banana'"]


def test_core_kinds_with_int_or_string_and_secrets() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "stringData": {"password": "x"},
    }
    assert validate_manifest(service) == [] and validate_manifest(secret) == []


def test_secret_values_never_appear_in_messages() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"pw": 12345678}}
    (error,) = validate_manifest(secret)
    assert "12345678" not in error
    assert error.startswith("Secret/s: stringData.pw: invalid value (hidden): it must satisfy type")
