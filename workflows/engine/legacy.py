"""What the original innominatus's workflow files assume, and what it never supported.

Plain Python, no Django: used by the loader (warnings for keys the original ignored, clear
refusals for step types it never had) and by the provider loader (the inputs the original always
passed to provider workflows).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .model import ParameterSpec

# The original always passed these to a provider's workflow, declared or not.
PROVIDER_INPUTS = (
    ParameterSpec("app_name", description="the application (passed by innominatus, as by the original)"),
    ParameterSpec("resource_name", description="the resource's name in the Score spec"),
    ParameterSpec("resource_type", description="the resource's type"),
    ParameterSpec("namespace", description="the application's namespace"),
)

# Keys under `spec:` that the original's loader ignored (decoded into a struct without them):
# accepted, reported as a warning, never acted on.
IGNORED_SPEC_KEYS = frozenset(
    {"triggers", "requiredPlatformWorkflows", "allowedProductWorkflows", "workflowOverrides", "schedule"}
)
IGNORED_TOP_LEVEL_KEYS = frozenset({"triggers", "labels", "annotations", "version", "owner"})

# Step types used in the original's own (archived) files that its executor never had.
NEVER_SUPPORTED_STEP_TYPES = {
    "workflow": "nested `workflow` steps were never supported by the original innominatus either; "
    "run the workflows one after another, or as golden paths",
    "argocd-delete": "the original innominatus had no 'argocd-delete' step type either; "
    "use 'argocd-app' with operation: delete",
    "kubernetes-delete": "the original innominatus had no 'kubernetes-delete' step type either; "
    "use 'kubernetes' with operation: delete",
    "gitea-archive": "the original innominatus had no 'gitea-archive' step type either",
    "git-pr": "the original innominatus had no 'git-pr' step type either; use 'git' (commit and push a branch)",
    "database-schema": "the original innominatus had no 'database-schema' step type either; "
    "use 'script' to run the migration tool",
}


def ignored_keys_warning(path: str, keys: list[str]) -> str:
    """The warning for keys that are accepted but do nothing (as in the original)."""
    listed = ", ".join(repr(key) for key in sorted(keys))
    return f"{path}: ignored {listed}: not used by innominatus (the original innominatus ignored them too)"


# --- the original's condition forms -> the safe condition language (engine/conditions.py) ---------

_STATUS_FORM = re.compile(r"^\s*([A-Za-z_][\w-]*)\.(success|succeeded|failed|failure|skipped)\s*$")
_STATUS_OF = {"success": "completed", "succeeded": "completed", "failed": "failed", "failure": "failed"}
_REFERENCE = re.compile(r"^\$\{([^}]+)\}$|^\$([A-Za-z_]\w*)$")
_COMPARISON = re.compile(
    r"^(?P<lhs>.+?)\s+(?P<op>==|!=|>=|<=|>|<|matches|contains|startsWith|endsWith)\s+(?P<rhs>.+)$", re.DOTALL
)
_PLAIN = re.compile(r"^(-?\d+(\.\d+)?|true|false|null|'.*'|\".*\")$", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z_][\w-]*$")


def _reference(operand: str) -> str | None:
    """`$VAR`, `${VAR}` -> env.VAR; `${workflow.X}` -> variables.X; `${step.key}` -> steps.step.outputs.key."""
    match = _REFERENCE.match(operand.strip())
    if match is None:
        return None
    inner = (match.group(1) or match.group(2) or "").strip()
    parts = inner.split(".")
    if not all(_NAME.match(part) for part in parts):
        return None
    if len(parts) == 1:
        # `$VAR` was the step's environment in the original (its own `env:`, then the variables).
        return f"env.{parts[0]}"
    if parts[0] == "workflow" and len(parts) == 2:
        return f"variables.{parts[1]}"
    if len(parts) == 2:
        return f"steps.{parts[0]}.outputs.{parts[1]}"
    return None


def _quoted(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _operand(operand: str, *, literal: bool = False) -> str | None:
    operand = operand.strip()
    reference = _reference(operand)
    if reference is not None:
        return reference
    if operand.startswith("$"):
        return None  # a `$` form we cannot translate faithfully: leave it to the parser's error
    if operand[:1] in ("'", '"') or (_PLAIN.match(operand) and not literal):
        return operand
    # The original compared text: a bare word (or a regular expression after `matches`) is a string.
    return _quoted(operand)


def translate_condition(expression: str) -> str:
    """The original's condition forms in the safe language; anything else is returned unchanged.

    Handled: `$VAR == x`, `${workflow.X} == y`, `${step.output} >= ${workflow.MIN}`, `$VAR`,
    `$VAR matches <regex>`, `<step>.success` / `.failed`. Bare words compare as strings.
    """
    status = _STATUS_FORM.match(expression)
    if status is not None and status.group(2) in _STATUS_OF:
        return f"steps.{status.group(1)}.status == '{_STATUS_OF[status.group(2)]}'"
    if status is not None:
        return f"steps.{status.group(1)}.status == 'skipped'"
    if "$" not in expression:
        return expression
    comparison = _COMPARISON.match(expression.strip())
    if comparison is None:
        return _reference(expression) or expression
    op = comparison.group("op")
    lhs = _operand(comparison.group("lhs"))
    rhs = _operand(comparison.group("rhs"), literal=op in ("matches", "contains", "startsWith", "endsWith"))
    if lhs is None or rhs is None:
        return expression
    return f"{lhs} {op} {rhs}"


class _Environment(dict[str, Any]):
    """Like a shell environment: an unset name reads as the empty string (as `$VAR` did in the original)."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __missing__(self, key: str) -> str:
        return ""


def condition_context(step_env: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """The context a condition is evaluated in: `env` is the step's environment over the variables,
    which is what the original's `$VAR` read."""
    variables = context.get("variables")
    return {
        **context,
        "env": _Environment({**(variables if isinstance(variables, Mapping) else {}), **step_env}),
    }


def render_defaults(
    specs: Sequence[ParameterSpec], given: Mapping[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    """Render defaults that are templates over the other parameters (the original's
    `default: "{{ .parameters.app_name }}"`). Only defaults from the workflow file are rendered,
    never a value someone submitted, so no submitted text is ever evaluated as a template."""
    from .errors import ParameterError, Problem, TemplateError
    from .templating import render

    templated = [
        spec
        for spec in specs
        if isinstance(spec.default, str) and "{{" in spec.default and given.get(spec.name) in (None, "")
    ]
    if not templated:
        return values
    context = {"parameters": {k: v for k, v in values.items() if k not in {s.name for s in templated}}}
    problems = []
    for spec in templated:
        try:
            values[spec.name] = render(str(spec.default), context, path=f"parameters.{spec.name}.default")
        except TemplateError as exc:
            problems.append(
                Problem(f"parameters.{spec.name}", f"default cannot be rendered: {exc}", "parameter_default")
            )
    if problems:
        raise ParameterError(problems)
    return values
