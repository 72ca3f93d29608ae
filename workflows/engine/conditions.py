"""A small, safe expression language for step `if`/`unless` (tokenizer + recursive descent, no eval).

Grammar (lowest precedence first)::

    expr       := and_expr (("or" | "||") and_expr)*
    and_expr   := not_expr (("and" | "&&") not_expr)*
    not_expr   := ("not" | "!") not_expr | comparison
    comparison := operand [op operand]      op: == != < <= > >= contains startsWith endsWith
                                                matches in, "not in"
    operand    := literal | path | "[" [operand ("," operand)*] "]" | "(" expr ")"
    path       := ["."] name ("." name | "[" (string | number) "]")*

Names may contain `-` (step names do); the leading dot of Go templates is accepted. Literals are
'…' / "…" strings, numbers, true/false/null. `==`/`!=` compare loosely across the string forms
that forms and scripts produce ("3" == 3, "true" == true). A path that does not resolve is an
error, except when compared with `null` (`resources.s3 != null` tests presence).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .comparisons import compare, truthy
from .errors import ConditionEvaluationError, ConditionSyntaxError

MAX_EXPRESSION_LENGTH = 4096
_MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!()\[\],.])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    """,
    re.VERBOSE | re.DOTALL,
)
_KEYWORDS = {
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "null",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
}
_COMPARISONS = {
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "in",
    "not in",
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}
_MISSING = object()


@dataclass(frozen=True)
class _Token:
    kind: str
    value: str
    position: int


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            raise ConditionSyntaxError(f"unexpected character {expression[position]!r}", expression, position)
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(expression)))
    return tokens


def _unquote(text: str) -> str:
    body = text[1:-1]
    # Unknown escapes keep their backslash so regex patterns like '^v\d+\.0$' survive intact.
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body, flags=re.DOTALL)


# Nodes are tuples: ("lit", value) ("path", parts) ("list", items) ("not", x) ("and", a, b) ("or", a, b)
# ("cmp", op, left, right). Tuples keep the tree immutable and cheap.
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, message: str, token: _Token | None = None) -> ConditionSyntaxError:
        where = token or self.peek()
        return ConditionSyntaxError(message, self.expression, where.position)

    def is_op(self, *values: str) -> bool:
        token = self.peek()
        return token.kind in ("op", "name") and token.value in values

    def expect(self, value: str) -> None:
        if not self.is_op(value):
            found = self.peek().value or "end of expression"
            raise self.error(f"expected '{value}' but found '{found}'")
        self.advance()

    def parse(self) -> Node:
        if not self.expression.strip():
            raise self.error("empty expression")
        node = self.parse_or()
        if self.peek().kind != "end":
            raise self.error(f"unexpected '{self.peek().value}'")
        return node

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error("expression is nested too deeply")
        try:
            return parse()
        finally:
            self.depth -= 1

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.is_op("or", "||"):
            self.advance()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.is_op("and", "&&"):
            self.advance()
            node = ("and", node, self.parse_not())
        return node

    def parse_not(self) -> Node:
        if self.is_op("not", "!"):
            self.advance()
            return ("not", self.nested(self.parse_not))
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        left = self.parse_operand()
        operator = None
        if self.is_op("not") and self.tokens[self.index + 1].value == "in":
            self.index += 2
            operator = "not in"
        elif self.peek().kind in ("op", "name") and self.peek().value in _COMPARISONS:
            operator = self.advance().value
        if operator is None:
            return left
        right = self.parse_operand()
        if self.peek().kind in ("op", "name") and self.peek().value in _COMPARISONS:
            raise self.error("comparisons cannot be chained; use 'and'")
        return ("cmp", operator, left, right)

    def parse_operand(self) -> Node:
        token = self.peek()
        if token.kind == "number":
            self.advance()
            return ("lit", float(token.value) if "." in token.value else int(token.value))
        if token.kind == "string":
            self.advance()
            return ("lit", _unquote(token.value))
        if token.kind == "name" and token.value in ("true", "false", "null"):
            self.advance()
            return ("lit", {"true": True, "false": False, "null": None}[token.value])
        if self.is_op("("):
            self.advance()
            node = self.nested(self.parse_or)
            self.expect(")")
            return node
        if self.is_op("["):
            return self.parse_list()
        if self.is_op(".") or (token.kind == "name" and token.value not in _KEYWORDS):
            return self.parse_path()
        raise self.error(f"expected a value but found '{token.value or 'end of expression'}'")

    def parse_list(self) -> Node:
        self.advance()
        items: list[Node] = []
        while not self.is_op("]"):
            items.append(self.nested(self.parse_operand))
            if not self.is_op(","):
                break
            self.advance()
        self.expect("]")
        return ("list", tuple(items))

    def parse_path(self) -> Node:
        if self.is_op("."):
            self.advance()
        parts = [self.name()]
        while True:
            if self.is_op("."):
                self.advance()
                parts.append(self.name())
            elif self.is_op("["):
                self.advance()
                key = self.advance()
                if key.kind == "string":
                    parts.append(_unquote(key.value))
                elif key.kind == "number" and "." not in key.value:
                    parts.append(key.value)
                else:
                    raise self.error("expected a quoted key or an index inside [ ]", key)
                self.expect("]")
            else:
                return ("path", tuple(parts))

    def name(self) -> str:
        token = self.peek()
        if token.kind != "name":
            raise self.error(f"expected a name but found '{token.value or 'end of expression'}'")
        self.advance()
        return token.value


def _resolve(parts: tuple[str, ...], context: Mapping[str, Any]) -> Any:
    value: Any = context
    for part in parts:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list | tuple) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


@dataclass(frozen=True)
class Condition:
    """A parsed expression; evaluate it against a context of namespaces (parameters, steps, …)."""

    source: str
    tree: Node

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        """True/False for this context; ConditionEvaluationError for unknown names or bad operand types."""
        return truthy(self._eval(self.tree, context))

    def names(self) -> set[tuple[str, ...]]:
        """Every dotted path the expression references."""
        found: set[tuple[str, ...]] = set()
        stack = [self.tree]
        while stack:
            node = stack.pop()
            if node[0] == "path":
                found.add(node[1])
            elif node[0] == "list":
                stack.extend(node[1])
            elif node[0] == "cmp":
                stack.extend(node[2:])
            elif node[0] != "lit":
                stack.extend(node[1:])
        return found

    def _eval(self, node: Node, context: Mapping[str, Any]) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "path":
            value = _resolve(node[1], context)
            if value is _MISSING:
                raise ConditionEvaluationError(f"unknown name '{'.'.join(node[1])}' in `{self.source}`")
            return value
        if kind == "list":
            return [self._eval(item, context) for item in node[1]]
        if kind == "not":
            return not truthy(self._eval(node[1], context))
        if kind == "and":
            return truthy(self._eval(node[1], context)) and truthy(self._eval(node[2], context))
        if kind == "or":
            return truthy(self._eval(node[1], context)) or truthy(self._eval(node[2], context))
        op, left_node, right_node = node[1], node[2], node[3]
        if op in ("==", "!=") and ("lit", None) in (left_node, right_node):
            # Comparing with null tests presence, so a missing path is simply null here.
            other = right_node if left_node == ("lit", None) else left_node
            value = _resolve(other[1], context) if other[0] == "path" else self._eval(other, context)
            present = value is not None and value is not _MISSING
            return present == (op == "!=")
        return compare(op, self._eval(left_node, context), self._eval(right_node, context))


def parse_condition(expression: str) -> Condition:
    """Parse `expression`; ConditionSyntaxError (with a character position) when it is malformed."""
    if not isinstance(expression, str):
        raise ConditionSyntaxError("expression must be text", str(expression), 0)
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ConditionSyntaxError(f"expression is longer than {MAX_EXPRESSION_LENGTH} characters", "", 0)
    return Condition(expression, _Parser(expression).parse())
