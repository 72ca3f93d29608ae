"""Request body parsers: Score specs arrive as YAML or JSON text and are parsed by the ingest layer."""

from typing import Any

from django.conf import settings
from rest_framework import parsers
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


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a document nested deeper than Python's recursion limit with 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


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
