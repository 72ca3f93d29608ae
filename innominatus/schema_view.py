"""The OpenAPI schema endpoint, one generation at a time per process.

drf-spectacular loads its extensions lazily and not thread-safely; gunicorn runs requests on threads
(gthread, see innominatus/gunicorn_conf.py), and a second generation started meanwhile failed with a
500. (Not in innominatus/openapi.py: DRF imports that module from its settings, before the views.)
"""

import threading
from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """SpectacularAPIView behind a per-process lock."""

    _generating = threading.Lock()

    @extend_schema(exclude=True)  # as SERVE_INCLUDE_SCHEMA=False leaves the schema view out
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with self._generating:
            return super().get(request, *args, **kwargs)
