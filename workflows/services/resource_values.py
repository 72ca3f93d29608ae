"""Values around a resource: names and namespaces, generated credentials, resolved params, outputs, hints."""

from __future__ import annotations

import hashlib
import json
import secrets as token
from collections.abc import Collection, Mapping
from typing import Any

from workflows.choices import ResourceScope, ResourceState
from workflows.models import NamespaceClaim, ResourceInstance
from workflows.providers.config import platform_config
from workflows.providers.model import GeneratedValue, TypeCapability
from workflows.score import build_resolver, find_placeholders, substitute_all
from workflows.score.manifests import SECRET_MASK
from workflows.score.naming import k8s_name
from workflows.services.secrets import decrypt_mapping, encrypt_mapping

# Object names leave room for suffixes such as "-headless" or "data-<name>-0" within 63 characters.
OBJECT_NAME_LENGTH = 40
READABLE_STATES = frozenset({ResourceState.ACTIVE, ResourceState.UPDATING, ResourceState.DEGRADED})


def app_namespace(app_name: str) -> str:
    """The namespace an application's workload (and its private resources) live in: its claim
    (workflows/services/namespaces.py), or for an application from before claims, <prefix><name>."""
    claimed = (
        NamespaceClaim.objects.filter(app_name=app_name, environment="")
        .values_list("name", flat=True)
        .first()
    )
    return claimed or k8s_name(platform_config().namespace_prefix + app_name)


def team_shared_namespace(team: str) -> str:
    """The namespace of a team's shared resources: `<sharedNamespace>-<team>` (hashed when the team name
    is not already a DNS label, so two teams never share it)."""
    base = platform_config().shared_namespace
    name = k8s_name(base, team)
    if name != f"{base}-{team}":
        name = k8s_name(base, team, hashlib.sha256(team.encode()).hexdigest()[:6])
    return name


def placement(
    app_name: str,
    resource_name: str,
    resource_type: str,
    resource_class: str,
    resource_id: str,
    *,
    scope: str = ResourceScope.APPLICATION,
    team: str = "",
) -> dict[str, str]:
    """Where a new resource's objects go. Shared resources (with an id) are named after their identity,
    so they outlive the workload that happened to declare them first: a team's in the team's shared
    namespace, a platform-shared one in the platform's shared namespace."""
    if scope == ResourceScope.APPLICATION:
        return {
            "namespace": app_namespace(app_name),
            "object_name": k8s_name(app_name, resource_name, max_length=OBJECT_NAME_LENGTH),
        }
    parts = (
        [resource_type] + ([resource_class] if resource_class not in ("", "default") else []) + [resource_id]
    )
    namespace = (
        platform_config().shared_namespace if scope == ResourceScope.PLATFORM else team_shared_namespace(team)
    )
    return {"namespace": namespace, "object_name": k8s_name(*parts, max_length=OBJECT_NAME_LENGTH)}


def generate_value(spec: GeneratedValue) -> str:
    """A fresh random value: a URL-safe password, or a lower-case name that starts with a letter."""
    if spec.kind == "password":
        return token.token_urlsafe(spec.length)[: spec.length]
    prefix = spec.prefix or "x"
    return (prefix + token.token_hex(spec.length))[: max(spec.length, len(prefix) + 4)]


def effective_environment(extensions: Mapping[str, Any] | None) -> dict[str, str]:
    """The values of `type: environment` resources: admin-config's `environment`, overridden by the
    application's own `environment` extension (flat, or under `variables` as the original writes it)."""
    values = dict(platform_config().environment)
    extension = (extensions or {}).get("environment")
    if isinstance(extension, Mapping):
        nested = extension.get("variables")
        source: Mapping[str, Any] = nested if isinstance(nested, Mapping) else extension
        values.update({str(k): str(v) for k, v in source.items() if isinstance(v, str | int | float | bool)})
    return values


# Platform values a provider workflow may declare as parameters; when one changes, so does the resource.
PLATFORM_INPUTS = ("environment", "base_domain", "ingress_class", "storage_class")


def platform_inputs(extensions: Mapping[str, Any] | None) -> dict[str, Any]:
    """The platform values offered to every provider workflow (see ExecutionResourceOps._parameters)."""
    config = platform_config()
    return {
        "environment": effective_environment(extensions),
        "base_domain": config.base_domain,
        "ingress_class": config.ingress_class,
        "storage_class": config.storage_class,
    }


def inputs_digest(declared: Collection[str], extensions: Mapping[str, Any] | None) -> str:
    """A fingerprint of the platform values a provider workflow declares ("" when it declares none):
    stored on the resource, so a deploy updates it when they change (e.g. a new `environment` value)."""
    offered = platform_inputs(extensions)
    used = {name: offered[name] for name in PLATFORM_INPUTS if name in declared}
    if not used:
        return ""
    text = json.dumps(used, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def stored_secrets(instance: ResourceInstance) -> dict[str, Any]:
    """Generated values and secret outputs of a resource (decrypted; never log or return them)."""
    return decrypt_mapping(instance.secret_outputs)


def ensure_generated(
    instance: ResourceInstance, capability: TypeCapability, regenerate: Collection[str] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(current, previous) generated values: created once, kept across runs, new only when asked for."""
    unknown = set(regenerate) - set(capability.generate)
    if unknown:
        raise ValueError(f"{capability.type} has no generated value(s) {', '.join(sorted(unknown))}")
    stored = stored_secrets(instance)
    previous = {key: stored.get(key) for key in capability.generate}
    changed = False
    for key, spec in capability.generate.items():
        if key in regenerate or not stored.get(key):
            stored[key] = generate_value(spec)
            changed = True
    if changed:
        instance.secret_outputs = encrypt_mapping(stored)
        ResourceInstance.objects.filter(pk=instance.pk).update(secret_outputs=instance.secret_outputs)
    return {key: stored[key] for key in capability.generate}, previous


def instance_values(instance: ResourceInstance) -> dict[str, Any]:
    """Everything `${resources.<name>.<key>}` may read: outputs with secret ones decrypted."""
    return {**(instance.outputs or {}), **stored_secrets(instance)}


def secret_strings(instance: ResourceInstance) -> list[str]:
    """The secret values of a resource, for redaction."""
    return [str(value) for value in stored_secrets(instance).values() if value not in (None, "")]


def split_outputs(
    outputs: Mapping[str, Any], secret_keys: Collection[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(outputs to store in clear, with secret keys masked; secret outputs to encrypt)."""
    plain = {key: (SECRET_MASK if key in secret_keys else value) for key, value in outputs.items()}
    hidden = {key: value for key, value in outputs.items() if key in secret_keys}
    return plain, hidden


def referenced_names(params: Any) -> set[str]:
    """Resource names the placeholders inside `params` refer to."""
    found: set[str] = set()
    if isinstance(params, str):
        found |= {
            p.parts[1] for p in find_placeholders(params) if p.parts[0] == "resources" and len(p.parts) > 1
        }
    elif isinstance(params, Mapping):
        for value in params.values():
            found |= referenced_names(value)
    elif isinstance(params, list):
        for value in params:
            found |= referenced_names(value)
    return found


def resolve_params(
    instance: ResourceInstance,
    *,
    metadata: Mapping[str, Any],
    siblings: Mapping[str, ResourceInstance],
) -> tuple[dict[str, Any], list[str]]:
    """(params with placeholders substituted from other resources' outputs, their secret values)."""
    params = instance.params or {}
    outputs: dict[str, Any] = {}
    hidden: list[str] = []
    for name in sorted(referenced_names(params)):
        other = siblings.get(name)
        if other is None:
            raise ValueError(
                f"params of '{instance.resource_name}' refer to resource '{name}', which is not declared"
            )
        if other.state not in READABLE_STATES:
            raise ValueError(
                f"params of '{instance.resource_name}' need the outputs of '{name}', which is {other.state}"
            )
        outputs[name] = instance_values(other)
        hidden += secret_strings(other)
    resolved = substitute_all(params, build_resolver(metadata, outputs))
    return dict(resolved), hidden


def _hint(kind: str, label: str, value: str, icon: str) -> dict[str, str]:
    return {"type": kind, "label": label, "value": value, "icon": icon}


SCHEMES = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql", "redis": "redis"}


def hints_for(instance: ResourceInstance, outputs: Mapping[str, Any]) -> list[dict[str, str]]:
    """Quick-access cards for a resource: URLs, connection strings (password masked), kubectl commands."""
    hints: list[dict[str, str]] = []
    if outputs.get("url"):
        hints.append(_hint("url", "URL", str(outputs["url"]), "external-link"))
    scheme = SCHEMES.get(instance.resource_type)
    if scheme and outputs.get("host"):
        user = outputs.get("username")
        credentials = (
            f"{user}:{SECRET_MASK}@" if user else (f":{SECRET_MASK}@" if "password" in outputs else "")
        )
        database = outputs.get("database") or outputs.get("name")
        path = f"/{database}" if database and scheme != "redis" else ""
        value = f"{scheme}://{credentials}{outputs['host']}:{outputs.get('port', '')}{path}"
        hints.append(_hint("connection_string", "Connection string", value, "lock"))
    if outputs.get("endpoint"):
        hints.append(_hint("api_endpoint", "Endpoint", str(outputs["endpoint"]), "globe"))
    namespace = (instance.metadata or {}).get("namespace")
    object_name = (instance.metadata or {}).get("object_name")
    if namespace and object_name:
        kinds = "all,secret,configmap,pvc,ingress"
        command = f"kubectl -n {namespace} get {kinds} -l innominatus.dev/resource={object_name}"
        hints.append(_hint("command", "Kubernetes objects", command, "terminal"))
    if instance.reference_url:
        hints.append(_hint("dashboard", "Managed by", instance.reference_url, "external-link"))
    return hints
