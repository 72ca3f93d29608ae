"""What a loaded provider is: its resource-type capabilities, operations, outputs and workflows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.engine.model import WorkflowDefinition

OPERATIONS = ("create", "update", "delete")
RESOURCE_KINDS = ("native", "delegated", "external")
CATEGORIES = ("provisioner", "goldenpath")
GENERATED_KINDS = ("password", "name")


class ProviderError(Exception):
    """A provider cannot be loaded or conflicts with another; the message names providers and types."""


class UnknownResourceType(LookupError):
    """No loaded provider claims the resource type."""


@dataclass(frozen=True)
class OperationRoute:
    """How one operation on a type picks its workflow: by name, or by tags among the provider's workflows."""

    workflow: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputSpec:
    """One output a type's workflows return; secret outputs are encrypted and reach pods as Secret refs."""

    secret: bool = False
    description: str = ""


@dataclass(frozen=True)
class GeneratedValue:
    """A value created once when the resource is first requested and kept stable afterwards."""

    kind: str = "password"
    length: int = 24
    prefix: str = ""


@dataclass(frozen=True)
class TypeCapability:
    """What a provider does for one resource type (an alias points at the type it stands for)."""

    type: str
    alias_for: str = ""
    description: str = ""
    # native: our workflow provisions it; delegated: our workflow hands it to another system (GitOps …)
    # that reports back; external: someone else provisions it and reports its state and outputs.
    kind: str = "native"
    operations: dict[str, OperationRoute] = field(default_factory=dict)
    outputs: dict[str, OutputSpec] = field(default_factory=dict)
    generate: dict[str, GeneratedValue] = field(default_factory=dict)

    @property
    def secret_outputs(self) -> frozenset[str]:
        """Output keys that are secret (generated values are always treated as secret at rest)."""
        return frozenset(name for name, spec in self.outputs.items() if spec.secret)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the API."""
        return {
            "type": self.type,
            "alias_for": self.alias_for or None,
            "description": self.description,
            "kind": self.kind,
            "operations": {
                op: {"workflow": route.workflow or None, "tags": list(route.tags)}
                for op, route in self.operations.items()
            },
            "outputs": {name: {"secret": spec.secret} for name, spec in self.outputs.items()},
            "generated": sorted(self.generate),
        }


@dataclass(frozen=True)
class ProviderWorkflow:
    """A workflow file a provider ships: a provisioner for a resource operation, or a golden path."""

    name: str
    file: str
    category: str
    definition: WorkflowDefinition
    operation: str = ""
    tags: tuple[str, ...] = ()
    description: str = ""
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (the definition itself stays on the server)."""
        return {
            "name": self.name,
            "file": self.file,
            "category": self.category,
            "operation": self.operation or None,
            "tags": list(self.tags),
            "description": self.description,
            "version": self.version,
            "steps": len(self.definition.steps),
        }


@dataclass(frozen=True)
class Provider:
    """A loaded, validated provider.yaml with its workflows."""

    name: str
    version: str
    source: str
    builtin: bool = False
    api_version: str = ""
    description: str = ""
    category: str = ""
    compatibility: dict[str, str] = field(default_factory=dict)
    resource_types: tuple[str, ...] = ()
    capabilities: dict[str, TypeCapability] = field(default_factory=dict)
    workflows: dict[str, ProviderWorkflow] = field(default_factory=dict)

    def claimed_types(self) -> list[str]:
        """Every type name this provider answers to, aliases included."""
        return sorted(set(self.resource_types) | set(self.capabilities))

    def capability(self, type_name: str) -> TypeCapability:
        """The capability serving `type_name`, following an alias to its target."""
        found = self.capabilities.get(type_name) or TypeCapability(type=type_name)
        if found.alias_for:
            target = self.capabilities.get(found.alias_for) or TypeCapability(type=found.alias_for)
            return target
        return found

    def workflows_for(self, type_name: str, operation: str) -> list[ProviderWorkflow]:
        """Candidate workflows for an operation on a type, best first.

        A workflow named by the capability wins. Otherwise provisioner workflows for that operation
        are chosen by tags: the route's tags when it lists some, else the type's name.
        `update` falls back to `create` (applying the same objects again is an update).
        """
        capability = self.capability(type_name)
        route = capability.operations.get(operation)
        if route is not None and route.workflow:
            found = self.workflows.get(route.workflow)
            return [found] if found is not None else []
        wanted = set(route.tags) if route is not None and route.tags else {capability.type}
        matches = [
            wf
            for wf in self.workflows.values()
            if wf.category == "provisioner" and wf.operation == operation and wanted <= set(wf.tags)
        ]
        if not matches and operation == "update":
            return self.workflows_for(type_name, "create")
        if not matches and operation == "create" and route is None:
            # The original's simple format: `resourceTypes:` and one provisioner workflow without an
            # operation, which provisions every type the provider lists.
            plain = [
                wf for wf in self.workflows.values() if wf.category == "provisioner" and not wf.operation
            ]
            return plain if len(plain) == 1 else []
        return sorted(matches, key=lambda wf: wf.name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for the API."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "category": self.category,
            "builtin": self.builtin,
            "source": self.source,
            "compatibility": dict(self.compatibility),
            "resource_types": self.claimed_types(),
            "capabilities": [self.capabilities[name].to_dict() for name in sorted(self.capabilities)],
            "workflows": [self.workflows[name].to_dict() for name in sorted(self.workflows)],
        }
