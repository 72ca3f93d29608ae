"""Load one provider directory: `provider.yaml` in the original's format plus the workflow files it lists.

Every problem of a provider is collected and raised together in one ProviderError whose message
starts with the provider's name and file, so an operator sees at once what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from workflows.engine.errors import WorkflowValidationError
from workflows.engine.legacy import PROVIDER_INPUTS
from workflows.engine.loader import load_workflow
from workflows.providers.model import (
    CATEGORIES,
    GENERATED_KINDS,
    OPERATIONS,
    RESOURCE_KINDS,
    GeneratedValue,
    OperationRoute,
    OutputSpec,
    Provider,
    ProviderError,
    ProviderWorkflow,
    TypeCapability,
)
from workflows.steps.registry import config_problems, known_step_types

# The provider format version this implementation speaks (the original's core 1.x series).
CORE_VERSION = Version("1.0.0")
PROVIDER_FILE = "provider.yaml"
# The original's legacy name for the same file (`kind: Platform`), read when provider.yaml is absent.
LEGACY_PROVIDER_FILE = "platform.yaml"


def provider_file(directory: Path) -> Path | None:
    """The provider's description in `directory` (provider.yaml, else the legacy platform.yaml)."""
    for name in (PROVIDER_FILE, LEGACY_PROVIDER_FILE):
        if (directory / name).is_file():
            return directory / name
    return None


KINDS = ("Provider", "Platform")
NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
TYPE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$")


def _strings(value: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{where} must be a list of strings")
        return ()
    return tuple(value)


def _mapping(value: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where} must be a mapping")
        return {}
    return {str(key): item for key, item in value.items()}


def _compatibility(raw: Any, problems: list[str]) -> dict[str, str]:
    section = _mapping(raw, "compatibility", problems)
    result = {key: str(value) for key, value in section.items() if value is not None}
    try:
        low = Version(result["minCoreVersion"]) if "minCoreVersion" in result else None
        high = Version(result["maxCoreVersion"]) if "maxCoreVersion" in result else None
    except InvalidVersion as exc:
        problems.append(f"compatibility: {exc}")
        return result
    if low is None:
        problems.append("compatibility.minCoreVersion is required")
    elif low > CORE_VERSION or (high is not None and high < CORE_VERSION):
        problems.append(
            f"compatibility {result.get('minCoreVersion')}..{result.get('maxCoreVersion', '')} "
            f"does not include core version {CORE_VERSION}"
        )
    return result


def _inside(directory: Path, relative: str) -> Path | None:
    """The file a provider names, refusing paths that leave the provider's directory."""
    path = (directory / relative).resolve()
    return path if path.is_relative_to(directory.resolve()) else None


def _workflows(raw: Any, directory: Path, problems: list[str]) -> dict[str, ProviderWorkflow]:
    if raw is None or raw == []:
        return {}  # a provider without workflows (the original's `builtin`); claimed types need some
    if not isinstance(raw, list):
        problems.append("workflows must be a list")
        return {}
    found: dict[str, ProviderWorkflow] = {}
    step_types = known_step_types()
    for index, entry in enumerate(raw):
        where = f"workflows[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where} must be a mapping")
            continue
        name, file = entry.get("name"), entry.get("file")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            problems.append(f"{where}.name must be a lower-case name")
            continue
        where = f"workflow {name!r}"
        if name in found:
            problems.append(f"{where} is listed twice")
            continue
        category = str(entry.get("category") or "provisioner")
        operation = str(entry.get("operation") or "")
        if category not in CATEGORIES:
            problems.append(f"{where}: category must be one of {', '.join(CATEGORIES)}, not {category!r}")
        if operation and operation not in OPERATIONS:
            problems.append(f"{where}: operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
        tags = _strings(entry.get("tags"), f"{where}.tags", problems)
        path = _inside(directory, file) if isinstance(file, str) and file else None
        if path is None or not path.is_file():
            problems.append(f"{where}: workflow file {file!r} does not exist in {directory}")
            continue
        try:
            definition = load_workflow(
                path.read_text(encoding="utf-8"),
                known_step_types=step_types,
                name=name,
                implicit_parameters=PROVIDER_INPUTS,
            )
        except WorkflowValidationError as exc:
            problems.append(f"{where} ({file}) is invalid: {exc}")
            continue
        except OSError as exc:
            problems.append(f"{where}: cannot read {file}: {exc}")
            continue
        wrong = config_problems(definition)
        if wrong:
            problems.append(f"{where} ({file}) is invalid: " + "; ".join(wrong))
            continue
        found[name] = ProviderWorkflow(
            name=name,
            file=str(file),
            category=category,
            definition=definition,
            operation=operation,
            tags=tags,
            description=str(entry.get("description") or definition.description or ""),
            version=str(entry.get("version") or ""),
        )
    return found


def _route(raw: Any, where: str, problems: list[str]) -> OperationRoute:
    if isinstance(raw, str):
        return OperationRoute(workflow=raw)
    section = _mapping(raw, where, problems)
    return OperationRoute(
        workflow=str(section.get("workflow") or ""),
        tags=_strings(section.get("tags"), f"{where}.tags", problems),
    )


def _generated(raw: Any, where: str, problems: list[str]) -> dict[str, GeneratedValue]:
    found: dict[str, GeneratedValue] = {}
    for key, spec in _mapping(raw, where, problems).items():
        spec = spec if isinstance(spec, Mapping) else {"kind": spec}
        kind = str(spec.get("kind") or "password")
        length = spec.get("length", 24 if kind == "password" else 8)
        if kind not in GENERATED_KINDS:
            problems.append(f"{where}.{key}.kind must be one of {', '.join(GENERATED_KINDS)}")
        if not isinstance(length, int) or not 8 <= length <= 128:
            problems.append(f"{where}.{key}.length must be a whole number from 8 to 128")
            length = 24
        found[key] = GeneratedValue(kind=kind, length=length, prefix=str(spec.get("prefix") or ""))
    return found


def _capability(type_name: str, raw: Any, problems: list[str]) -> TypeCapability:
    where = f"capabilities.resourceTypeCapabilities.{type_name}"
    section = _mapping(raw, where, problems)
    operations_raw = _mapping(section.get("operations"), f"{where}.operations", problems)
    operations_raw.update({op: section[op] for op in OPERATIONS if op in section})
    unknown = set(operations_raw) - set(OPERATIONS)
    if unknown:
        problems.append(f"{where}: unknown operation(s) {', '.join(sorted(unknown))}")
    outputs = {
        str(key): OutputSpec(
            secret=bool(spec.get("secret")) if isinstance(spec, Mapping) else False,
            description=str(spec.get("description") or "") if isinstance(spec, Mapping) else "",
        )
        for key, spec in _mapping(section.get("outputs"), f"{where}.outputs", problems).items()
    }
    kind = str(section.get("kind") or "native")
    if kind not in RESOURCE_KINDS:
        problems.append(f"{where}.kind must be one of {', '.join(RESOURCE_KINDS)}, not {kind!r}")
    return TypeCapability(
        type=type_name,
        alias_for=str(section.get("aliasFor") or ""),
        description=str(section.get("description") or ""),
        kind=kind,
        operations={
            op: _route(operations_raw[op], f"{where}.{op}", problems)
            for op in OPERATIONS
            if op in operations_raw
        },
        outputs=outputs,
        generate=_generated(section.get("generate"), f"{where}.generate", problems),
    )


def _capabilities(raw: Any, problems: list[str]) -> tuple[tuple[str, ...], dict[str, TypeCapability]]:
    section = _mapping(raw, "capabilities", problems)
    types = _strings(section.get("resourceTypes"), "capabilities.resourceTypes", problems)
    entries = section.get("resourceTypeCapabilities")
    # Both spellings of the original: a mapping keyed by type, or a list of entries with `type`.
    if isinstance(entries, list):
        pairs = [(entry.get("type"), entry) for entry in entries if isinstance(entry, Mapping)]
    else:
        pairs = list(_mapping(entries, "capabilities.resourceTypeCapabilities", problems).items())
    capabilities: dict[str, TypeCapability] = {}
    for type_name, entry in pairs:
        if not isinstance(type_name, str) or not TYPE_PATTERN.match(type_name):
            problems.append(f"capabilities.resourceTypeCapabilities: {type_name!r} is not a valid type name")
            continue
        capabilities[type_name] = _capability(type_name, entry, problems)
    for type_name in types:
        if not TYPE_PATTERN.match(type_name):
            problems.append(f"capabilities.resourceTypes: {type_name!r} is not a valid type name")
    return types, capabilities


def _check_routes(provider: Provider, problems: list[str]) -> None:
    for type_name in provider.claimed_types():
        capability = provider.capabilities.get(type_name)
        if capability is not None and capability.alias_for:
            target = provider.capabilities.get(capability.alias_for)
            if capability.alias_for not in provider.claimed_types():
                problems.append(
                    f"type {type_name!r} is an alias for {capability.alias_for!r}, which it does not claim"
                )
            elif target is not None and target.alias_for:
                problems.append(
                    f"type {type_name!r} is an alias for another alias ({capability.alias_for!r})"
                )
            continue
        if provider.capability(type_name).kind == "external":
            continue
        # A type without a delete workflow loads (the original's provisioners often had none); deleting
        # such a resource fails then with "cannot deprovision" (ProviderRegistry.route).
        if not provider.workflows_for(type_name, "create"):
            problems.append(f"type {type_name!r} has no workflow for create")
        for operation in OPERATIONS:
            for workflow in provider.workflows_for(type_name, operation):
                if workflow.category != "provisioner":
                    problems.append(f"type {type_name!r}: {operation} names golden path {workflow.name!r}")
        route = provider.capability(type_name).operations
        for operation, chosen in route.items():
            if chosen.workflow and chosen.workflow not in provider.workflows:
                problems.append(f"type {type_name!r}: {operation} names unknown workflow {chosen.workflow!r}")


def load_provider(directory: Path, *, builtin: bool = False) -> Provider:
    """Load and validate the provider in `directory`; ProviderError lists every problem."""
    file = provider_file(directory) or directory / PROVIDER_FILE
    try:
        document = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProviderError(f"provider at {directory}: cannot read {PROVIDER_FILE}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ProviderError(f"provider at {directory}: {PROVIDER_FILE} is not valid YAML: {exc}") from exc
    if not isinstance(document, Mapping):
        raise ProviderError(f"provider at {directory}: {PROVIDER_FILE} must be a mapping")
    problems: list[str] = []
    metadata = _mapping(document.get("metadata"), "metadata", problems)
    name = metadata.get("name")
    label = f"provider {name!r} ({file})" if isinstance(name, str) and name else f"provider at {file}"
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        problems.append("metadata.name must be a lower-case name")
    if not document.get("apiVersion"):
        problems.append("apiVersion is required")
    if document.get("kind") not in KINDS:
        problems.append(f"kind must be Provider, not {document.get('kind')!r}")
    if not metadata.get("version"):
        problems.append("metadata.version is required")
    compatibility = _compatibility(document.get("compatibility"), problems)
    types, capabilities = _capabilities(document.get("capabilities"), problems)
    workflows = _workflows(document.get("workflows"), directory, problems)
    provider = Provider(
        name=str(name or ""),
        version=str(metadata.get("version") or ""),
        source=str(directory),
        builtin=builtin,
        api_version=str(document.get("apiVersion") or ""),
        description=str(metadata.get("description") or ""),
        category=str(metadata.get("category") or ""),
        compatibility=compatibility,
        resource_types=types,
        capabilities=capabilities,
        workflows=workflows,
    )
    if not problems:
        _check_routes(provider, problems)
    if problems:
        raise ProviderError(f"{label}: " + "; ".join(problems))
    return provider
