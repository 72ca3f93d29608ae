"""Parsing of one workflow step (both the `config:` form and the original's top-level form)."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

from .approvals import has_policy, policy_problems
from .conditions import parse_condition
from .durations import parse_duration
from .errors import ConditionSyntaxError, Problem, did_you_mean
from .legacy import NEVER_SUPPORTED_STEP_TYPES, translate_condition
from .model import STEP_TYPE_ALIASES, WHEN_VALUES, RetryPolicy, StepDefinition
from .parameters import NAME_PATTERN

MAX_RETRIES = 100
APPROVAL_TYPE = "approval"
STEP_KEYS = {
    "name",
    "type",
    "config",
    "env",
    "dependsOn",
    "depends_on",
    "parallel",
    "parallelGroup",
    "when",
    "if",
    "unless",
    "timeout",
    "retries",
    "outputs",
    "setVariables",
    "set_variables",
    "continueOnError",
    "continue_on_error",
}
SCALARS = (str, int, float, bool)


def text(value: Any) -> str:
    """A YAML scalar as text the way authors expect: booleans lower-case, null empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class StepParser:
    """Parses one step mapping, appending problems instead of stopping at the first."""

    def __init__(
        self, raw: Mapping[str, Any], path: str, known_types: Collection[str], problems: list[Problem]
    ):
        self.raw = raw
        self.path = path
        self.known_types = known_types
        self.problems = problems
        self.lifted: set[str] = set()

    def add(self, field: str, message: str, code: str, suggestion: str | None = None) -> None:
        self.problems.append(
            Problem(f"{self.path}.{field}" if field else self.path, message, code, suggestion)
        )

    def one_of(self, *keys: str) -> tuple[str, Any]:
        present = [key for key in keys if key in self.raw]
        if len(present) > 1:
            self.add(
                present[1], f"'{present[0]}' and '{present[1]}' mean the same; use one", "conflicting_keys"
            )
        return (present[0], self.raw[present[0]]) if present else (keys[0], None)

    def flag(self, *keys: str) -> bool:
        key, value = self.one_of(*keys)
        if value is not None and not isinstance(value, bool):
            self.add(key, f"{key} must be true or false", "invalid_type")
            return False
        return bool(value)

    def parse(self) -> StepDefinition | None:
        name = self.raw.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            self.add("name", "every step needs a name of letters, digits, _ or -", "invalid_name")
        step_type = self.step_type()
        config = self.config()
        retries = self.retries()
        when = self.when()
        self.approval_policy(config, gate=step_type == APPROVAL_TYPE or when == "manual")
        step = StepDefinition(
            name=name if isinstance(name, str) else "",
            type=step_type,
            config=config,
            env=self.string_map(*self.one_of("env")),
            depends_on=self.depends_on(),
            parallel=self.flag("parallel"),
            parallel_group=self.parallel_group(),
            when=when,
            if_expr=self.condition("if"),
            unless_expr=self.condition("unless"),
            timeout=self.duration("timeout"),
            retries=retries,
            outputs=self.outputs(),
            set_variables=self.string_map(*self.one_of("setVariables", "set_variables")),
            continue_on_error=self.flag("continueOnError", "continue_on_error"),
        )
        # A step with a usable name is kept even if it has other problems, so that steps depending
        # on it are not also reported as depending on an unknown step.
        return step if isinstance(name, str) and NAME_PATTERN.fullmatch(name) else None

    def step_type(self) -> str:
        raw_type = self.raw.get("type")
        if not isinstance(raw_type, str) or not raw_type:
            self.add(
                "type",
                "every step needs a type",
                "missing_type",
                "types: " + ", ".join(sorted(self.known_types)),
            )
            return ""
        step_type = STEP_TYPE_ALIASES.get(raw_type, raw_type)
        if step_type not in self.known_types and raw_type in NEVER_SUPPORTED_STEP_TYPES:
            message = f"unknown step type '{raw_type}': {NEVER_SUPPORTED_STEP_TYPES[raw_type]}"
            self.add("type", message, "unknown_step_type")
        elif step_type not in self.known_types:
            choices = [*self.known_types, *STEP_TYPE_ALIASES]
            hint = did_you_mean(raw_type, choices) or "types: " + ", ".join(sorted(self.known_types))
            self.add("type", f"unknown step type '{raw_type}'", "unknown_step_type", hint)
        return step_type

    def config(self) -> dict[str, Any]:
        section = self.raw.get("config")
        if section is not None and not isinstance(section, Mapping):
            self.add("config", "config must be a mapping", "invalid_type")
            section = None
        config = copy.deepcopy(dict(section or {}))
        for key, value in self.raw.items():
            if key in STEP_KEYS:
                continue
            if key in config:
                self.add(key, f"'{key}' is set both here and under config", "conflicting_keys")
            config[key] = copy.deepcopy(value)
            self.lifted.add(key)
        return config

    def approval_policy(self, config: Mapping[str, Any], *, gate: bool) -> None:
        if not has_policy(config):
            return
        if not gate:
            key = next(key for key in ("four_eyes", "approvers") if key in config)
            self.add(
                self.config_path(key),
                f"{key} applies to approval gates only",
                "not_a_gate",
                "use type: approval or when: manual",
            )
            return
        for key, message in policy_problems(config):
            self.add(self.config_path(key), message, "invalid_approval_policy")

    def config_path(self, key: str) -> str:
        """Where a config key was written: under config, or lifted from the step's top level."""
        return key if key.split("[")[0] in self.lifted else f"config.{key}"

    def string_map(self, key: str, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(key, f"{key} must be a mapping of names to text", "invalid_type")
            return {}
        result = {}
        for name, item in value.items():
            if item is not None and not isinstance(item, SCALARS):
                self.add(f"{key}.{name}", "values must be text, numbers or booleans", "invalid_type")
            result[str(name)] = text(item)
        return result

    def depends_on(self) -> tuple[str, ...]:
        key, value = self.one_of("dependsOn", "depends_on")
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            self.add(key, f"{key} must be a step name or a list of step names", "invalid_type")
            return ()
        return tuple(items)

    def parallel_group(self) -> str | None:
        value = self.raw.get("parallelGroup")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.add("parallelGroup", "parallelGroup must be a number or a name", "invalid_type")
            return None
        return str(value)

    def when(self) -> str:
        value = self.raw.get("when")
        if value is None:
            return "on_success"
        if value not in WHEN_VALUES:
            hint = did_you_mean(str(value), WHEN_VALUES) or "use one of: " + ", ".join(WHEN_VALUES)
            self.add("when", f"invalid when '{value}'", "invalid_when", hint)
            return "on_success"
        return str(value)

    def condition(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str | bool):
            self.add(key, f"{key} must be an expression", "invalid_condition")
            return None
        # The original's forms (`$VAR == x`, `step.success` …) become the safe language; no eval.
        expression = translate_condition(text(value))
        try:
            parse_condition(expression)
        except ConditionSyntaxError as exc:
            pointer = f"{expression}\n{' ' * exc.position}^"
            self.add(
                key,
                f"cannot parse `{expression}`: {exc.message} at position {exc.position}",
                "invalid_condition",
                pointer,
            )
        return expression

    def duration(self, key: str) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.add(key, str(exc), "invalid_duration", "use e.g. 30s, 5m, 1h30m")
            return None

    def retries(self) -> RetryPolicy:
        value = self.raw.get("retries")
        if value is None:
            return RetryPolicy()
        if isinstance(value, int) and not isinstance(value, bool):
            value = {"limit": value}
        if not isinstance(value, Mapping):
            self.add("retries", "retries must be a number or {limit, backoff}", "invalid_retries")
            return RetryPolicy()
        for key in value:
            if key not in ("limit", "backoff", "maxBackoff", "max_backoff"):
                self.add(
                    f"retries.{key}",
                    f"unknown retries field '{key}'",
                    "invalid_retries",
                    did_you_mean(str(key), ["limit", "backoff", "maxBackoff"]),
                )
        limit = value.get("limit", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_RETRIES:
            self.add(
                "retries.limit", f"limit must be a whole number from 0 to {MAX_RETRIES}", "invalid_retries"
            )
            limit = 0
        defaults = RetryPolicy()
        backoff = self.backoff(value, "backoff", defaults.backoff)
        max_backoff = self.backoff(
            value, "maxBackoff" if "maxBackoff" in value else "max_backoff", defaults.max_backoff
        )
        if max_backoff < backoff:
            self.add("retries", "maxBackoff must not be smaller than backoff", "invalid_retries")
        return RetryPolicy(limit=limit, backoff=backoff, max_backoff=max(backoff, max_backoff))

    def backoff(self, value: Mapping[str, Any], key: str, default: float) -> float:
        if value.get(key) is None:
            return default
        try:
            return parse_duration(value[key])
        except ValueError as exc:
            self.add(f"retries.{key}", str(exc), "invalid_retries", "use seconds or a duration such as 10s")
            return default

    def outputs(self) -> dict[str, str | None]:
        value = self.raw.get("outputs")
        if value is None:
            return {}
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return dict.fromkeys(value)
        if isinstance(value, Mapping):
            result: dict[str, str | None] = {}
            for name, template in value.items():
                if template is not None and not isinstance(template, SCALARS):
                    self.add(f"outputs.{name}", "an output must be a template text", "invalid_type")
                result[str(name)] = None if template is None else text(template)
            return result
        self.add(
            "outputs", "outputs must be a list of names or a mapping of name to template", "invalid_type"
        )
        return {}
