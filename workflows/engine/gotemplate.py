"""Translate the Go-template forms used by the original's workflow files into Jinja2 syntax.

Handled: leading-dot paths (`{{ .parameters.x }}` -> `{{ parameters.x }}`, with hyphenated segments
as `['get-credentials']`), `$var` references, `{{ if … }}` / `{{ else if … }}` / `{{ else }}` /
`{{ end }}` with the comparison functions `eq ne lt le gt ge and or not len`, and
`{{ range $k, $v := .path }}` / `{{ range $v := .path }}`. Anything else is left as written, so
Jinja reports it as a syntax error at validation time. `{% raw %}` sections are not touched.
"""

from __future__ import annotations

import re

_ACTION = re.compile(r"(\{\{|\{%)(-?)(.*?)(-?)(\}\}|%\})", re.DOTALL)
# String literals are matched first so that dots and dollars inside them are left alone.
_CODE = re.compile(
    r"""(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)"""
    r"|\$(?P<var>[A-Za-z_]\w*)"
    r"|(?<![\w)\].'\"])\.(?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)",
    re.DOTALL,
)
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_RANGE = re.compile(r"range\s+\$(\w+)\s*(?:,\s*\$(\w+)\s*)?:=\s*(.+)", re.DOTALL)
_PIPE_TOKEN = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|[()]|[^\s()]+""")
_BINARY = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_LITERALS = {"true": "true", "false": "false", "nil": "none"}


def _path(dotted: str) -> str:
    parts = dotted.split(".")
    out = parts[0]
    for part in parts[1:]:
        out += f".{part}" if _IDENTIFIER.fullmatch(part) else f"[{part!r}]"
    return out


def _rewrite(match: re.Match[str]) -> str:
    literal = match.group("str")
    if literal is not None:
        # Go's raw `backtick` strings become ordinary quoted strings.
        return repr(literal[1:-1]) if literal.startswith("`") else literal
    if match.group("var") is not None:
        return match.group("var")
    return _path(match.group("path"))


def convert_paths(content: str) -> str:
    """Rewrite leading-dot paths and `$vars` outside string literals."""
    return _CODE.sub(_rewrite, content)


class _Pipeline:
    """Turns a Go pipeline such as `eq .parameters.size "small"` into a Jinja expression."""

    def __init__(self, text: str) -> None:
        self.tokens = _PIPE_TOKEN.findall(text)
        self.index = 0

    def convert(self) -> str | None:
        try:
            result = self.expression()
        except (IndexError, ValueError):
            return None
        return result if self.index == len(self.tokens) else None

    def expression(self) -> str:
        function = self.tokens[self.index]
        if function in _BINARY or function in ("and", "or", "not", "len"):
            self.index += 1
            args = []
            while self.index < len(self.tokens) and self.tokens[self.index] != ")":
                args.append(self.argument())
            return self.call(function, args)
        return self.argument()

    def argument(self) -> str:
        token = self.tokens[self.index]
        self.index += 1
        if token == "(":  # noqa: S105 - a parenthesis, not a password  # nosec B105
            inner = self.expression()
            if self.tokens[self.index] != ")":
                raise ValueError("unbalanced parenthesis")
            self.index += 1
            return inner
        if token in _LITERALS:
            return _LITERALS[token]
        if token[0] in "\"'`" or re.fullmatch(r"-?\d+(\.\d+)?", token):
            return convert_paths(token)
        if token.startswith((".", "$")) and len(token) > 1:
            return convert_paths(token)
        raise ValueError(f"unsupported Go template token {token!r}")

    @staticmethod
    def call(name: str, args: list[str]) -> str:
        if name == "not" and len(args) == 1:
            return f"(not {args[0]})"
        if name == "len" and len(args) == 1:
            return f"({args[0]} | length)"
        if name in ("and", "or") and len(args) >= 2:
            return "(" + f" {name} ".join(args) + ")"
        if name == "eq" and len(args) >= 2:
            return "(" + " or ".join(f"{args[0]} == {other}" for other in args[1:]) + ")"
        if name in _BINARY and len(args) == 2:
            return f"({args[0]} {_BINARY[name]} {args[1]})"
        raise ValueError(f"cannot translate {name} with {len(args)} argument(s)")


def _control(content: str, stack: list[str | None]) -> str | None:
    """Translate a Go control action's body to a Jinja statement body, or None to leave it alone."""
    words = content.strip()
    if words.startswith("if "):
        condition = _Pipeline(words[3:]).convert()
        if condition is None:
            return None
        stack.append("endif")
        return f"if {condition}"
    if words.startswith("else if "):
        condition = _Pipeline(words[8:]).convert()
        return f"elif {condition}" if condition is not None and stack and stack[-1] == "endif" else None
    if words == "else":
        return "else" if stack and stack[-1] is not None else None
    if words == "end":
        return stack.pop() if stack else None
    if words.startswith("range "):
        match = _RANGE.fullmatch(words)
        source = _Pipeline(match.group(3)).convert() if match else None
        if match is None or source is None:
            stack.append(None)
            return None
        stack.append("endfor")
        if match.group(2):
            return f"for {match.group(1)}, {match.group(2)} in {source} | go_pairs"
        return f"for {match.group(1)} in {source} | go_values"
    if words.startswith(("with ", "block ", "define ")):
        stack.append(None)
    return None


def normalize_go_style(template: str) -> str:
    """Rewrite Go-template syntax inside `{{ }}` / `{% %}` into Jinja; text outside tags is untouched."""
    if "{{" not in template and "{%" not in template:
        return template
    out: list[str] = []
    stack: list[str | None] = []
    last = 0
    in_raw = False
    for match in _ACTION.finditer(template):
        opener, left_trim, content, right_trim, _ = match.groups()
        out.append(template[last : match.start()])
        last = match.end()
        statement = content.strip()
        if in_raw or content.startswith("/*"):
            in_raw = in_raw and not (opener == "{%" and statement == "endraw")
            out.append(match.group())
            continue
        if opener == "{%":
            in_raw = statement == "raw"
            out.append(f"{{%{left_trim}{convert_paths(content)}{right_trim}%}}")
            continue
        control = _control(content, stack)
        if statement == "now":
            # Go's `now` is a function called without parentheses; the sandbox provides it.
            out.append(f"{{{{{left_trim} now() {right_trim}}}}}")
        elif control is not None:
            out.append(f"{{%{left_trim} {control} {right_trim}%}}")
        else:
            out.append(f"{{{{{left_trim}{convert_paths(content)}{right_trim}}}}}")
    out.append(template[last:])
    return "".join(out)
