"""The API's JSON renderer."""

from typing import Any

from rest_framework.renderers import JSONRenderer


class _EscapedJSONRenderer(JSONRenderer):
    ensure_ascii = True


class SafeJSONRenderer(JSONRenderer):
    """JSON as DRF renders it, but an answer that echoes text no UTF-8 can hold (a lone surrogate sent
    as `\\ud800` inside a JSON string, quoted back in a problem's message) is rendered with escapes
    instead of failing with a 500."""

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return _EscapedJSONRenderer().render(data, accepted_media_type, renderer_context)
