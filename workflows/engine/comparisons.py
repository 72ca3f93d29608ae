"""Value semantics of the condition language: truthiness, loose equality, ordering, membership."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ConditionEvaluationError, UnsafePatternError
from .safe_regex import safe_search

_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def truthy(value: Any) -> bool:
    """Truth of a bare value: strings "", "false", "0", "no", "off" are false (forms send strings)."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no", "off")
    return bool(value)


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        left_bool, right_bool = _as_bool(left), _as_bool(right)
        return left_bool is not None and left_bool == right_bool
    if _is_number(left) or _is_number(right):
        left_num, right_num = _as_number(left), _as_number(right)
        return left_num is not None and left_num == right_num
    return bool(left == right)


def _order(op: str, left: Any, right: Any) -> bool:
    left_num, right_num = _as_number(left), _as_number(right)
    if left_num is not None and right_num is not None:
        return bool(_ORDERINGS[op](left_num, right_num))
    if isinstance(left, str) and isinstance(right, str):
        return bool(_ORDERINGS[op](left, right))
    raise ConditionEvaluationError(f"cannot compare {left!r} {op} {right!r}")


def _text(value: Any, op: str) -> str:
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(value)
    raise ConditionEvaluationError(f"'{op}' needs text but got {value!r}")


def _member(item: Any, container: Any, op: str) -> bool:
    if isinstance(container, str):
        return _text(item, op) in container
    if isinstance(container, Mapping):
        return item in container
    if isinstance(container, list | tuple | set | frozenset):
        return any(_equal(item, element) for element in container)
    raise ConditionEvaluationError(f"'{op}' needs a list, text or mapping but got {container!r}")


def compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("<", "<=", ">", ">="):
        return _order(op, left, right)
    if op == "contains":
        return _member(right, left, op)
    if op in ("in", "not in"):
        return _member(left, right, op) == (op == "in")
    if op == "startsWith":
        return _text(left, op).startswith(_text(right, op))
    if op == "endsWith":
        return _text(left, op).endswith(_text(right, op))
    try:
        return safe_search(_text(right, op), _text(left, op))
    except UnsafePatternError as exc:
        raise ConditionEvaluationError(f"'matches': {exc}") from exc
