"""Request body parsers: Score specs arrive as YAML or JSON text and are parsed by the ingest layer;
every other JSON body is parsed here, refused with a 400 naming the path when it nests too deep or
holds text no database column can store."""

import json
import re
from typing import Any, NoReturn

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

YAML_MEDIA_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def read_limited(stream: Any, limit: int) -> bytes:
    """Read at most `limit` bytes from a stream, refusing anything longer with 413."""
    from innominatus.problems import PayloadTooLarge

    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise PayloadTooLarge(f"The request body exceeds the limit of {limit} bytes.")
    return bytes(data)


def decode_text(data: bytes, encoding: str | None) -> str:
    """Decode a body as text, reporting the encoding problem instead of a 500."""
    try:
        return data.decode(encoding or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"The request body is not valid {encoding or 'utf-8'} text: {exc}") from None


# NUL cannot be stored in PostgreSQL text or jsonb; a lone surrogate cannot be encoded as UTF-8 at all.
INVALID_TEXT = re.compile("[\x00\ud800-\udfff]")
MAX_REPORTED_PROBLEMS = 20


def invalid_text(text: str) -> str:
    """Why `text` cannot be stored ("" when it can)."""
    found = INVALID_TEXT.search(text)
    if found is None:
        return ""
    char = found.group()
    if char == "\x00":
        return "NUL characters are not allowed"
    return f"invalid Unicode: lone surrogate U+{ord(char):04X} at character {found.start()}"


def shown(text: str) -> str:
    """`text` safe to put in a response: NUL and lone surrogates escaped."""
    return text.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


def too_deep_path(text: str, max_depth: int) -> str:
    """Where JSON text first nests deeper than `max_depth` (for input too deep to parse at all)."""
    stack: list[int | None] = []
    path: list[str] = [""]
    last_string = ""
    for token in _JSON_TOKEN.finditer(text):
        value = token.group()
        if value in ("{", "["):
            if len(stack) >= max_depth:
                return path[-1]
            stack.append(0 if value == "[" else None)
            path.append(json_path(path[-1], 0) if value == "[" else path[-1])
        elif value in ("}", "]"):
            if stack:
                stack.pop()
                path.pop()
        elif value == ",":
            top = stack[-1] if stack else None
            if top is not None:
                stack[-1] = top + 1
                path[-1] = json_path(path[-2], top + 1)
        elif value == ":":
            if stack and stack[-1] is None:
                path[-1] = json_path(path[-2], shown(last_string))
        else:
            try:
                last_string = str(json.loads(value))
            except ValueError:
                last_string = value.strip('"')
    return path[-1]


def json_path(parent: str, key: str | int) -> str:
    """The dotted path of a child, as problem responses name fields (`a.b[0].c`)."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def json_problems(root: Any, *, max_depth: int) -> list[dict[str, str]]:
    """Every place in parsed JSON that nests deeper than `max_depth` or holds text that cannot be stored."""
    problems: list[dict[str, str]] = []
    stack: list[tuple[Any, str, int]] = [(root, "", 0)]
    while stack and len(problems) < MAX_REPORTED_PROBLEMS:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            reason = invalid_text(value)
            if reason:
                problems.append({"path": path, "message": reason, "code": "invalid_text"})
            continue
        if not isinstance(value, dict | list):
            continue
        if depth >= max_depth:
            message = f"nested deeper than {max_depth} levels"
            problems.append({"path": path, "message": message, "code": "too_deep"})
            continue
        if isinstance(value, list):
            stack.extend((child, json_path(path, index), depth + 1) for index, child in enumerate(value))
            continue
        for key, child in value.items():
            reason = invalid_text(key)
            if reason:
                # The key itself cannot be shown as it is: name it with the offending part escaped.
                problems.append(
                    {"path": json_path(path, shown(key)), "message": f"key: {reason}", "code": "invalid_text"}
                )
            else:
                stack.append((child, json_path(path, key), depth + 1))
    problems.sort(key=lambda problem: problem["path"])
    return problems


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a valid JSON number")


class LimitedJSONParser(BaseParser):
    """JSON bodies within the size limit, nesting at most INPUT_MAX_DEPTH levels, with storable text only."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        from innominatus.problems import ProblemError

        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        text = decode_text(read_limited(stream, settings.DATA_UPLOAD_MAX_MEMORY_SIZE), encoding)
        max_depth = settings.INPUT_MAX_DEPTH
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            message = f"nested deeper than {max_depth} levels"
            where = too_deep_path(text, max_depth)
            raise ProblemError(
                f"The request body is {message}.",
                errors=[{"path": where, "message": message, "code": "too_deep"}],
            ) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        problems = json_problems(data, max_depth=max_depth)
        if problems:
            raise ProblemError("The request body is invalid; see errors for each field.", errors=problems)
        return data


class YAMLTextParser(BaseParser):
    """Accepts YAML bodies and hands the raw text on, so ingest can refuse aliases and duplicates."""

    media_type = "application/yaml"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        return decode_text(read_limited(stream, settings.SCORE_MAX_BYTES), encoding)


class _YAMLAliasParser(YAMLTextParser):
    media_type = "application/x-yaml"


class _TextYAMLParser(YAMLTextParser):
    media_type = "text/yaml"


class _TextXYAMLParser(YAMLTextParser):
    media_type = "text/x-yaml"


class RawJSONTextParser(YAMLTextParser):
    """Accepts JSON bodies as raw text for endpoints that parse specs themselves."""

    media_type = "application/json"


SPEC_PARSERS = [YAMLTextParser, _YAMLAliasParser, _TextYAMLParser, _TextXYAMLParser, RawJSONTextParser]
