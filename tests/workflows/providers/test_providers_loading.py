"""Loading providers: the built-in catalogue, admin-config directories, capability routing, and loud failures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.workflows.providers.helpers import write_provider
from workflows.goldenpaths.catalog import golden_paths
from workflows.providers.loader import load_provider
from workflows.providers.model import ProviderError, UnknownResourceType
from workflows.providers.registry import BUILTIN_DIR, build_registry, current_registry
from workflows.services.resource_values import generate_value
from workflows.steps.base import StepContext
from workflows.steps.inline import run_inline

Config = Callable[[dict[str, Any]], Path]
SCORE_K8S_TYPES = {
    "postgres",
    "redis",
    "volume",
    "route",
    "dns",
    "s3",
    "namespace",
    "service-port",
    "environment",
}


def test_builtin_catalogue_covers_the_score_k8s_types() -> None:
    registry = build_registry()
    assert registry.known_types() >= SCORE_K8S_TYPES
    assert registry.provider_for("postgresql").name == "postgres"
    assert registry.route("postgresql", "create").workflow.name == "postgres-apply"
    assert registry.route("redis", "delete").workflow.name == "redis-delete"
    postgres = registry.provider_for("postgres").capability("postgres")
    assert postgres.secret_outputs == {"password", "connection_string"} and set(postgres.generate) == {
        "username",
        "password",
        "database",
    }
    for provider in registry.providers.values():
        assert provider.builtin and provider.version == "1.0.0"


OFFERED = {
    "app": "demo",
    "resource": "thing",
    "namespace": "demo",
    "object_name": "demo-thing",
    "base_domain": "apps.test",
    "app_service": "demo",
    "host": "demo.apps.test",
    "port": "web",
    "workload": "other",
    "workload_service": {
        "name": "other",
        "namespace": "other",
        "host": "other.other.svc",
        "ports": {"web": 80},
    },
    "environment": {"LOG_LEVEL": "info"},
}


@pytest.mark.usefixtures("no_cluster")
def test_every_builtin_workflow_renders_schema_valid_objects(tmp_path: Path) -> None:
    """Render-only runs validate every manifest against the Kubernetes schemas; nothing may fail."""
    for directory in sorted(BUILTIN_DIR.iterdir()):
        provider = load_provider(directory, builtin=True)
        for type_name in provider.resource_types:
            capability = provider.capability(type_name)
            generated = {key: generate_value(spec) for key, spec in capability.generate.items()}
            for workflow in provider.workflows.values():
                lines: list[str] = []
                log = lines.append
                ctx = StepContext(
                    execution_id="wf-0123456789ab",
                    app_name="demo",
                    step_name="provision-thing",
                    step_type="provision",
                    config={},
                    workdir=tmp_path,
                    log=lambda message, *args, _log=log, **kwargs: _log(str(message)),
                )
                offered = {**OFFERED, **generated, "previous_password": "rotated-from"}
                result = run_inline(ctx, workflow.definition, offered, log=ctx.log, label=workflow.name)
                assert result.error == "", (workflow.name, result.error, lines)
                assert result.render_only or workflow.name == "service-port-release", workflow.name
                declared = set(capability.outputs)
                if workflow.operation == "create" and declared:
                    assert declared <= set(result.outputs), (workflow.name, declared - set(result.outputs))
                assert not [line for line in lines if "invalid manifest" in line or "no schema" in line], (
                    lines
                )


@pytest.mark.django_db
def test_admin_config_adds_providers_and_tag_routing(tmp_path: Path, admin_config: Config) -> None:
    write_provider(
        tmp_path,
        "queue-team",
        ["amqp", "rabbitmq"],
        capabilities="""  resourceTypeCapabilities:
    rabbitmq: {aliasFor: amqp}
    amqp:
      outputs: {password: {secret: true}}""",
        extra="""  - {name: queue-big, file: ./workflows/create.yaml, category: provisioner, operation: create, tags: [amqp, large]}
  - {name: queue-portal, file: ./workflows/create.yaml, category: goldenpath, tags: [amqp]}""",
    )
    admin_config({"providers": [{"name": "queue-team", "path": "queue-team"}]})
    registry = current_registry()
    assert {"amqp", "rabbitmq", "postgres"} <= registry.known_types()
    assert registry.route("rabbitmq", "create").workflow.name == "queue-big"
    assert registry.route("amqp", "create", "large").workflow.name == "queue-big"
    # Without an update workflow, update applies the create workflow again.
    assert registry.route("amqp", "update").workflow.name in {"queue-big", "queue-team-create"}
    assert registry.provider_for("amqp").capability("rabbitmq").secret_outputs == {"password"}
    assert "queue-portal" in golden_paths()
    assert golden_paths()["queue-portal"].extra == {"provider": "queue-team"}
    with pytest.raises(UnknownResourceType, match="no provider claims resource type 'kafka'"):
        registry.route("kafka", "create")


def test_two_providers_claiming_one_type_fail_naming_both(
    tmp_path: Path, admin_config: Config, settings: Any
) -> None:
    write_provider(tmp_path, "cache-team", ["memcached"])
    write_provider(tmp_path, "other-team", ["memcached", "widget"])
    admin_config({"providers": [str(tmp_path / "cache-team"), str(tmp_path / "other-team")]})
    with pytest.raises(ProviderError) as raised:
        build_registry(strict=True)
    message = str(raised.value)
    assert "resource type 'memcached' is claimed by both provider 'cache-team'" in message
    assert "and provider 'other-team'" in message
    # Tolerant (the server's default): the later provider is disabled with the reason, the rest serves.
    registry = build_registry()
    assert registry.provider_for("memcached").name == "cache-team"
    assert "widget" not in registry.known_types()
    assert "claimed by both provider 'cache-team'" in registry.disabled["other-team"]
    call_command("check")  # a warning, not an error
    settings.PROVIDERS_STRICT = True
    with pytest.raises(SystemCheckError, match="memcached"):
        call_command("check")


def test_a_configured_provider_replaces_a_builtin_one_and_builtins_can_be_disabled(
    tmp_path: Path, admin_config: Config
) -> None:
    write_provider(tmp_path, "cache-team", ["redis"])
    write_provider(tmp_path, "off-team", ["gadget"])
    admin_config(
        {
            "providers": [
                {"name": "cache-team", "type": "filesystem", "path": str(tmp_path / "cache-team")},
                {"name": "off-team", "path": str(tmp_path / "off-team"), "enabled": False},
            ],
            "builtinProviders": {"s3": {"enabled": False}},
        }
    )
    registry = build_registry(strict=True)
    assert registry.provider_for("redis").name == "cache-team"
    assert registry.replaced == {"redis": ("redis", "cache-team")}
    assert "s3" not in registry.known_types() and "gadget" not in registry.known_types()
    assert "builtinProviders" in registry.disabled["s3"]
    assert "enabled: false" in registry.disabled["off-team"]


def test_an_alias_counts_as_a_claim(tmp_path: Path, admin_config: Config) -> None:
    write_provider(
        tmp_path,
        "pg-team",
        ["pg"],
        capabilities="  resourceTypeCapabilities:\n    postgresql: {aliasFor: pg}",
    )
    admin_config({"providers": [str(tmp_path / "pg-team")]})
    write_provider(tmp_path, "other-team", ["postgresql"])
    admin_config({"providers": [str(tmp_path / "pg-team"), str(tmp_path / "other-team")]})
    with pytest.raises(
        ProviderError, match=r"'postgresql' is claimed by both provider 'pg-team'.*provider 'other-team'"
    ):
        build_registry(strict=True)


def test_a_broken_workflow_file_fails_naming_provider_and_file(
    tmp_path: Path, admin_config: Config, settings: Any
) -> None:
    broken = "metadata: {name: x}\nsteps:\n  - {name: a, type: teleport}\n"
    write_provider(tmp_path, "broken-team", ["widget"], workflow_text=broken)
    admin_config({"providers": [str(tmp_path / "broken-team")]})
    assert "teleport" in build_registry().disabled["broken-team"]
    settings.PROVIDERS_STRICT = True
    with pytest.raises(ProviderError) as raised:
        build_registry()
    message = str(raised.value)
    assert (
        "provider 'broken-team'" in message
        and "workflow 'broken-team-create' (./workflows/create.yaml)" in message
    )
    assert "teleport" in message
    with pytest.raises(SystemCheckError, match="broken-team"):
        call_command("check")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("kind: Provider", "kind: Plugin"), "kind must be Provider"),
        (("minCoreVersion: 1.0.0", "minCoreVersion: 3.0.0"), "does not include core version 1.0.0"),
        (("file: ./workflows/delete.yaml", "file: ../../etc/passwd"), "does not exist"),
        (("operation: delete", "operation: destroy"), "operation must be one of"),
        (("tags: [gadget]}}\n  - {{", "tags: [x]}}\n  - {{"), "has no workflow for create"),
    ],
)
def test_invalid_provider_files_are_refused(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    directory = write_provider(tmp_path, "gadget-team", ["gadget"])
    manifest = directory / "provider.yaml"
    old, new = change
    text = manifest.read_text()
    old = old.replace("{{", "{").replace("}}", "}")
    new = new.replace("{{", "{").replace("}}", "}")
    assert old in text
    manifest.write_text(text.replace(old, new, 1))
    with pytest.raises(ProviderError, match=expected):
        load_provider(directory)


def test_missing_provider_directory_is_an_error(tmp_path: Path, admin_config: Config) -> None:
    admin_config({"providers": ["./nowhere"]})
    with pytest.raises(ProviderError, match=r"nowhere.*has no provider\.yaml"):
        build_registry(strict=True)
    assert "has no provider.yaml" in build_registry().disabled["nowhere"]


def test_a_provider_golden_path_may_not_shadow_a_builtin(tmp_path: Path, admin_config: Config) -> None:
    write_provider(
        tmp_path,
        "path-team",
        ["gizmo"],
        extra="  - {name: deploy-app, file: ./workflows/create.yaml, category: goldenpath}",
    )
    admin_config({"providers": [str(tmp_path / "path-team")]})
    with pytest.raises(ProviderError, match="golden path 'deploy-app' of provider 'path-team'"):
        build_registry(strict=True)
    registry = build_registry()
    assert "path-team" not in registry.providers and "gizmo" not in registry.known_types()
    assert "golden path 'deploy-app'" in registry.disabled["path-team"]
