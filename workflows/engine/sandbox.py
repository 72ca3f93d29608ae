"""The Jinja2 sandbox for workflow templates, hardened against resource exhaustion.

`ImmutableSandboxedEnvironment` already blocks `_`-attributes, internal attributes and mutation of
lists/dicts. On top of that, every operation that can multiply the size of a value is checked
*before* it allocates: `*`, `**`, `+`, `%`, `~` (through a code-generator hook), the str methods
`replace/ljust/rjust/center/zfill/expandtabs/join`, and the filters `replace/join/center/indent/
format/wordwrap/slice/batch`. No intermediate value may exceed MAX_VALUE_SIZE, `range()` shares a
budget of MAX_RANGE_BUDGET items per render, and macros, blocks, include/import/extends are
refused at parse time. `str.format` is not available (use `~` or the `format` filter).
Comments use Go's `{{/* … */}}` so that `{#` (common in shell scripts: `${#array[@]}`) stays text.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import do_batch, do_format, do_wordwrap, sync_do_join, sync_do_slice
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_environment, pass_eval_context

MAX_VALUE_SIZE = 1024 * 1024
MAX_RANGE_BUDGET = 100_000
MAX_INT_BITS = 65_536
MAX_SLICES = 10_000
_FORBIDDEN_NODES = (
    nodes.Macro,
    nodes.CallBlock,
    nodes.Block,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Extends,
)
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_range_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("range_budget", default=None)


def _limit(size: int, what: str) -> None:
    if size > MAX_VALUE_SIZE:
        raise SecurityError(f"{what} would produce {size} characters; the limit is {MAX_VALUE_SIZE}")


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


def _check_percent_format(text: Any) -> None:
    if not isinstance(text, str):
        return
    for match in _PERCENT_SPEC.finditer(text):
        for number in match.groups():
            if number == "*" or (number and int(number) > 10_000):
                raise SecurityError("format widths above 10000 (or '*') are not allowed")


def _replace_size(text: str, old: str, new: str, count: int = -1) -> int:
    hits = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))


def _check_str_method(text: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Estimate the result size of an amplifying str method before it runs."""
    if name == "replace" and len(args) >= 2:
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        _limit(_replace_size(text, str(args[0]), str(args[1]), int(count)), "str.replace")
    elif name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
        _limit(args[0], f"str.{name}")
    elif name == "expandtabs":
        size = int(args[0]) if args else int(kwargs.get("tabsize", 8))
        _limit(len(text) + text.count("\t") * max(size, 0), "str.expandtabs")
    elif name == "join" and args:
        items = args[0]
        if not isinstance(items, list | tuple):
            raise SecurityError("str.join needs a list; use the join filter for other sequences")
        joined = sum(len(item) for item in items if isinstance(item, str))
        _limit(joined + len(text) * max(len(items) - 1, 0), "str.join")


def budgeted_range(*args: int) -> range:
    """`range()` for templates: all calls in one render share MAX_RANGE_BUDGET items."""
    numbers = range(*args)
    budget = _range_budget.get()
    if budget is not None:
        budget[0] -= len(numbers)
        if budget[0] < 0:
            raise SecurityError(f"templates may iterate at most {MAX_RANGE_BUDGET} range() items in total")
    elif len(numbers) > MAX_RANGE_BUDGET:
        raise SecurityError(f"range() is limited to {MAX_RANGE_BUDGET} items")
    return numbers


class RangeBudget:
    """Context manager that opens a fresh range() budget for one render."""

    def __enter__(self) -> RangeBudget:
        self._token = _range_budget.set([MAX_RANGE_BUDGET])
        return self

    def __exit__(self, *exc: object) -> None:
        _range_budget.reset(self._token)


def _filter_replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    text, before, after = str(value), str(old), str(new)
    limit = -1 if count is None else count
    _limit(_replace_size(text, before, after, limit), "replace filter")
    return text.replace(before, after, limit)


@pass_eval_context
def _filter_join(eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: str | int | None = None) -> str:
    items = list(value)
    _limit(sum(len(str(item)) for item in items) + len(str(d)) * max(len(items) - 1, 0), "join filter")
    return sync_do_join(eval_ctx, items, d, attribute)


def _filter_center(value: Any, width: int = 80) -> str:
    _limit(int(width), "center filter")
    return str(value).center(int(width))


def _filter_indent(text: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text = str(text)
    pad = width if isinstance(width, str) else " " * min(int(width), MAX_VALUE_SIZE + 1)
    _limit(len(text) + (text.count("\n") + 1) * len(pad), "indent filter")
    lines = text.splitlines(keepends=True) or [""]
    out = [lines[0] if not first else pad + lines[0]]
    out += [pad + line if (blank or line.strip()) else line for line in lines[1:]]
    return "".join(out)


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> str:
    _check_percent_format(value)
    return do_format(value, *args, **kwargs)


@pass_environment
def _filter_wordwrap(environment: Any, text: str, width: int = 79, *args: Any, **kwargs: Any) -> str:
    wrap = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or environment.newline_sequence
    _limit(len(text) + (len(text) // max(int(width), 1) + 1) * len(str(wrap)), "wordwrap filter")
    return do_wordwrap(environment, text, width, *args, **kwargs)


def _filter_slice(value: Iterable[Any], slices: int, fill_with: Any = None) -> Iterator[list[Any]]:
    if int(slices) > MAX_SLICES:
        raise SecurityError(f"slice is limited to {MAX_SLICES} slices")
    return sync_do_slice(list(value), int(slices), fill_with)


def _filter_batch(value: Iterable[Any], linecount: int, fill_with: Any = None) -> Iterator[list[Any]]:
    if fill_with is not None and int(linecount) > MAX_SLICES:
        raise SecurityError(f"batch with fill_with is limited to {MAX_SLICES} items per batch")
    return do_batch(value, int(linecount), fill_with)


def go_pairs(value: Any) -> list[tuple[Any, Any]]:
    """Go's `range $k, $v := x`: sorted (key, value) pairs of a map, (index, item) of a list; nil is empty."""
    if value is None:
        return []
    if isinstance(value, dict):
        return sorted(value.items(), key=lambda item: str(item[0]))
    return list(enumerate(value))


def go_values(value: Any) -> list[Any]:
    """Go's `range $v := x`: map values in key order, list items; nil is empty."""
    return [item for _, item in go_pairs(value)]


def safe_concat(parts: Iterable[Any]) -> str:
    """The `~` operator with the size limit applied before joining."""
    strings = [str(part) for part in parts]
    _limit(sum(len(part) for part in strings), "'~' concatenation")
    return "".join(strings)


class _GuardedCodeGenerator(CodeGenerator):
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.safe_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class GuardedSandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment plus size guards; StrictUndefined, no autoescape, None renders empty."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            comment_start_string="{{/*",
            comment_end_string="*/}}",
            finalize=lambda value: "" if value is None else value,
        )
        self.safe_concat = safe_concat
        for name in ("lipsum", "namespace"):
            self.globals.pop(name, None)
        self.globals["range"] = budgeted_range
        self.filters.update(
            replace=_filter_replace,
            join=_filter_join,
            center=_filter_center,
            indent=_filter_indent,
            format=_filter_format,
            wordwrap=_filter_wordwrap,
            slice=_filter_slice,
            batch=_filter_batch,
            go_pairs=go_pairs,
            go_values=go_values,
        )

    def wrap_str_format(self, value: Any) -> None:
        # str.format can allocate huge padded fields ('{:>999999999}'); is_safe_attribute refuses it.
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in ("format", "format_map"):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                size = _sized(seq)
                if size is not None and isinstance(times, int):
                    _limit(size * max(times, 0), "'*'")
            both_int = isinstance(left, int) and isinstance(right, int)
            if both_int and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise SecurityError("integer result is too large")
        elif operator == "**":
            both_int = isinstance(left, int) and isinstance(right, int)
            if both_int and right > 0 and max(left.bit_length(), 1) * right > MAX_INT_BITS:
                raise SecurityError("integer result is too large")
        elif operator == "+":
            left_size, right_size = _sized(left), _sized(right)
            if left_size is not None and right_size is not None:
                _limit(left_size + right_size, "'+'")
        elif operator == "%":
            _check_percent_format(left)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_method(owner, getattr(obj, "__name__", ""), args, kwargs)
        return super().call(context, obj, *args, **kwargs)

    def check_nodes(self, tree: nodes.Template) -> None:
        """Refuse constructs that allow recursion or loading other templates."""
        for node in tree.find_all(_FORBIDDEN_NODES):
            keyword = type(node).__name__.lower()
            raise SecurityError(f"'{keyword}' is not allowed in workflow templates (line {node.lineno})")
