"""The workflow definition model: parameters, steps, retry policy, and a JSON snapshot round trip."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

PARAMETER_TYPES = frozenset({"string", "int", "number", "bool", "duration", "enum", "list", "map"})
# Spellings seen in the original's workflow and golden-path files, mapped to the canonical type.
PARAMETER_TYPE_ALIASES = {
    "str": "string",
    "text": "string",
    "integer": "int",
    "float": "number",
    "boolean": "bool",
    "array": "list",
    "object": "map",
    "dict": "map",
}

WHEN_VALUES = ("on_success", "on_failure", "always", "manual")
STEP_TYPE_ALIASES = {"policy": "script"}

DEFAULT_BACKOFF = 5.0
DEFAULT_MAX_BACKOFF = 300.0
SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class ParameterSpec:
    """A typed parameter; min/max bound values (int, number), lengths (string) or seconds (duration)."""

    name: str
    type: str = "string"
    description: str = ""
    default: Any = None
    required: bool = False
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    allowed_values: tuple[Any, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "default": copy.deepcopy(self.default),
            "required": self.required,
            "pattern": self.pattern,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "allowed_values": list(self.allowed_values) if self.allowed_values is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParameterSpec:
        """Inverse of to_dict (trusts its input: it is our own snapshot)."""
        allowed = data.get("allowed_values")
        return cls(
            name=data["name"],
            type=data.get("type", "string"),
            description=data.get("description", ""),
            default=copy.deepcopy(data.get("default")),
            required=bool(data.get("required", False)),
            pattern=data.get("pattern"),
            minimum=data.get("minimum"),
            maximum=data.get("maximum"),
            allowed_values=tuple(allowed) if allowed is not None else None,
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failed step is retried and how long to wait: backoff * 2**(attempt-1), capped."""

    limit: int = 0
    backoff: float = DEFAULT_BACKOFF
    max_backoff: float = DEFAULT_MAX_BACKOFF

    def delay_for(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1 = first retry)."""
        if attempt < 1:
            raise ValueError("retry attempts are numbered from 1")
        # The exponent is capped so huge attempt numbers cannot overflow the float.
        return min(self.backoff * (2.0 ** min(attempt - 1, 62)), self.max_backoff)

    def should_retry(self, attempts_made: int) -> bool:
        """Whether another attempt is allowed after `attempts_made` attempts (the first run counts)."""
        return attempts_made <= self.limit

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"limit": self.limit, "backoff": self.backoff, "max_backoff": self.max_backoff}


@dataclass(frozen=True)
class StepDefinition:
    """One step as written (after normalisation): what to run, when, and what it exports."""

    name: str
    type: str
    config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    parallel: bool = False
    parallel_group: str | None = None
    when: str = "on_success"
    if_expr: str | None = None
    unless_expr: str | None = None
    timeout: float | None = None
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    outputs: dict[str, str | None] = field(default_factory=dict)
    set_variables: dict[str, str] = field(default_factory=dict)
    continue_on_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "name": self.name,
            "type": self.type,
            "config": copy.deepcopy(self.config),
            "env": dict(self.env),
            "depends_on": list(self.depends_on),
            "parallel": self.parallel,
            "parallel_group": self.parallel_group,
            "when": self.when,
            "if": self.if_expr,
            "unless": self.unless_expr,
            "timeout": self.timeout,
            "retries": self.retries.to_dict(),
            "outputs": dict(self.outputs),
            "set_variables": dict(self.set_variables),
            "continue_on_error": self.continue_on_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepDefinition:
        """Inverse of to_dict."""
        retries = data.get("retries") or {}
        return cls(
            name=data["name"],
            type=data["type"],
            config=copy.deepcopy(data.get("config") or {}),
            env=dict(data.get("env") or {}),
            depends_on=tuple(data.get("depends_on") or ()),
            parallel=bool(data.get("parallel", False)),
            parallel_group=data.get("parallel_group"),
            when=data.get("when", "on_success"),
            if_expr=data.get("if"),
            unless_expr=data.get("unless"),
            timeout=data.get("timeout"),
            retries=RetryPolicy(
                limit=int(retries.get("limit", 0)),
                backoff=float(retries.get("backoff", DEFAULT_BACKOFF)),
                max_backoff=float(retries.get("max_backoff", DEFAULT_MAX_BACKOFF)),
            ),
            outputs=dict(data.get("outputs") or {}),
            set_variables=dict(data.get("set_variables") or {}),
            continue_on_error=bool(data.get("continue_on_error", False)),
        )


@dataclass(frozen=True)
class WorkflowDefinition:
    """A validated workflow; runs store `to_dict()` as the snapshot of what they execute."""

    name: str
    description: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    parameters: tuple[ParameterSpec, ...] = ()
    variables: dict[str, Any] = field(default_factory=dict)
    steps: tuple[StepDefinition, ...] = ()
    outputs: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None
    # Keys the original innominatus ignored and that are ignored here too (engine/legacy.py): shown
    # where the workflow is listed or loaded, not part of the snapshot an execution runs.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def step_names(self) -> list[str]:
        """Step names in file order."""
        return [step.name for step in self.steps]

    def step(self, name: str) -> StepDefinition:
        """The step called `name` (KeyError if absent)."""
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    def parameter(self, name: str) -> ParameterSpec:
        """The parameter spec called `name` (KeyError if absent)."""
        for spec in self.parameters:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot that `from_dict` turns back into an equal definition."""
        return {
            "snapshot_version": SNAPSHOT_VERSION,
            "name": self.name,
            "description": self.description,
            "metadata": copy.deepcopy(self.metadata),
            "parameters": [spec.to_dict() for spec in self.parameters],
            "variables": copy.deepcopy(self.variables),
            "steps": [step.to_dict() for step in self.steps],
            "outputs": dict(self.outputs),
            "timeout": self.timeout,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkflowDefinition:
        """Rebuild a definition from `to_dict()` output."""
        version = data.get("snapshot_version", SNAPSHOT_VERSION)
        if version != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported workflow snapshot version {version!r}")
        return cls(
            name=data["name"],
            description=data.get("description", ""),
            metadata=copy.deepcopy(data.get("metadata") or {}),
            parameters=tuple(ParameterSpec.from_dict(item) for item in data.get("parameters") or ()),
            variables=copy.deepcopy(data.get("variables") or {}),
            steps=tuple(StepDefinition.from_dict(item) for item in data.get("steps") or ()),
            outputs=dict(data.get("outputs") or {}),
            timeout=data.get("timeout"),
        )
