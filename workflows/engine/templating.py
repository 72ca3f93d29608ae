"""Sandboxed Jinja2 templating for step configs and outputs, with Go-style `{{ .x }}` accepted.

The render context holds the namespaces `parameters`, `variables`, `steps` (`steps.<name>.status`,
`steps.<name>.outputs.<key>`; `output` is an alias of `outputs` as in the original's files),
`resources`, `app` and `execution`; step output rendering adds `outputs`. Undefined names are
errors (StrictUndefined), `None` renders as an empty string, and no value may exceed 1 MiB.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.exceptions import SecurityError

from .errors import TemplateError, TemplateRenderError, TemplateSyntaxError
from .gotemplate import normalize_go_style
from .sandbox import MAX_VALUE_SIZE, GuardedSandbox, RangeBudget

NAMESPACES = frozenset({"parameters", "variables", "steps", "resources", "app", "execution"})
STEP_ATTRIBUTES = frozenset({"status", "outputs", "output"})
MAX_OUTPUT_SIZE = MAX_VALUE_SIZE
_MAX_CACHED_SOURCE = 64 * 1024

_ENV = GuardedSandbox()


def _now() -> str:
    """The original's Go-template `{{ now }}`: the current time (UTC, ISO 8601, seconds)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_ENV.globals["now"] = _now

__all__ = [
    "NAMESPACES",
    "STEP_ATTRIBUTES",
    "is_template",
    "make_context",
    "normalize_go_style",
    "render",
    "render_value",
    "template_references",
]


def is_template(value: str) -> bool:
    """Whether `value` contains template syntax at all (plain strings are passed through untouched)."""
    return "{{" in value or "{%" in value


def _chain(node: nodes.Node) -> tuple[str, ...] | None:
    """The dotted path of a Getattr/Getitem chain rooted at a Name (dynamic subscripts end the path)."""
    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem):
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str | int):
                parts.append(str(node.arg.value))
            else:
                parts.clear()
            node = node.node
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            return (node.name, *reversed(parts))
        else:
            return None


def _compile(source: str) -> tuple[jinja2.Template, frozenset[tuple[str, ...]]]:
    """Compiled template and its references; only modest sources are cached (memory stays bounded)."""
    if len(source) > _MAX_CACHED_SOURCE:
        return _compile_source(source)
    return _compile_cached(source)


def _compile_source(source: str) -> tuple[jinja2.Template, frozenset[tuple[str, ...]]]:
    normalized = normalize_go_style(source)
    try:
        tree = _ENV.parse(normalized)
        _ENV.check_nodes(tree)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateSyntaxError(f"template syntax error on line {exc.lineno}: {exc.message}") from exc
    except SecurityError as exc:
        raise TemplateSyntaxError(str(exc)) from exc
    free = meta.find_undeclared_variables(tree) - set(_ENV.globals)
    found = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        path = _chain(node)
        if path is not None and path[0] in free:
            found.add(path)
    # Keep only the longest paths: `steps.a.outputs.x` already implies `steps.a`.
    longest = {p for p in found if not any(len(o) > len(p) and o[: len(p)] == p for o in found)}
    return _ENV.from_string(tree), frozenset(longest)


_compile_cached = functools.lru_cache(maxsize=1024)(_compile_source)


def template_references(template: str) -> set[tuple[str, ...]]:
    """Every free dotted path the template reads (`("parameters", "env")`, `("steps", "build", …)`)."""
    if not is_template(template):
        return set()
    return set(_compile(template)[1])


def render(template: str, context: Mapping[str, Any], *, path: str = "") -> str:
    """Render one template string; TemplateRenderError (with `path`) on any failure."""
    if not is_template(template):
        return template
    try:
        compiled = _compile(template)[0]
        chunks: list[str] = []
        size = 0
        with RangeBudget():
            for chunk in compiled.generate(dict(context)):
                size += len(chunk)
                if size > MAX_OUTPUT_SIZE:
                    raise TemplateRenderError(f"rendered output exceeds {MAX_OUTPUT_SIZE} characters", path)
                chunks.append(chunk)
        return "".join(chunks)
    except TemplateError as exc:
        if exc.path or not path:
            raise
        raise type(exc)(exc.message, path) from exc
    except jinja2.UndefinedError as exc:
        raise TemplateRenderError(f"undefined value: {exc.message}", path) from exc
    except SecurityError as exc:
        raise TemplateRenderError(f"not allowed: {exc}", path) from exc
    except Exception as exc:
        # Templates call filters and str methods that raise arbitrary errors on bad input.
        raise TemplateRenderError(f"{type(exc).__name__}: {exc}", path) from exc


def render_value(obj: Any, context: Mapping[str, Any], path: str = "") -> Any:
    """Render every string inside nested dicts/lists (keys are left alone); other values pass through."""
    if isinstance(obj, str):
        return render(obj, context, path=path)
    if isinstance(obj, Mapping):
        return {
            key: render_value(value, context, f"{path}.{key}" if path else str(key))
            for key, value in obj.items()
        }
    if isinstance(obj, list | tuple):
        return [render_value(item, context, f"{path}[{index}]") for index, item in enumerate(obj)]
    return obj


def make_context(
    *,
    parameters: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    steps: Mapping[str, Mapping[str, Any]] | None = None,
    resources: Mapping[str, Any] | None = None,
    app: Mapping[str, Any] | None = None,
    execution: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the template/condition context; `steps` maps name -> {"status", "outputs"}."""
    step_view: dict[str, dict[str, Any]] = {}
    for name, state in (steps or {}).items():
        outputs = dict(state.get("outputs") or {})
        step_view[name] = {"status": state.get("status", "pending"), "outputs": outputs, "output": outputs}
    return {
        "parameters": dict(parameters or {}),
        "variables": dict(variables or {}),
        "steps": step_view,
        "resources": dict(resources or {}),
        "app": dict(app or {}),
        "execution": dict(execution or {}),
    }
