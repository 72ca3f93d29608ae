"""HTTP metrics: django-prometheus' middleware plus innominatus_http_* labelled by route template."""

import functools
import re

from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve
from django_prometheus.middleware import PrometheusBeforeMiddleware

from ops.metrics import definitions as m

UNMATCHED_ROUTE = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
_PATH_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def _replace_regex_groups(pattern: str) -> str:
    """Turn every (possibly nested) regex group into {name}, or {param} when unnamed."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out.append(pattern[index + 1])
            index += 2
            continue
        if char != "(":
            out.append(char)
            index += 1
            continue
        named = re.match(r"\(\?P<([^>]+)>", pattern[index:])
        depth, end = 0, index
        while end < len(pattern):
            if pattern[end] == "\\":
                end += 2
                continue
            depth += {"(": 1, ")": -1}.get(pattern[end], 0)
            end += 1
            if depth == 0:
                break
        if not pattern.startswith("(?:", index) or named:
            out.append("{" + (named.group(1) if named else "param") + "}")
        # A quantifier after a group belongs to the group: (?:v1/)? leaves nothing behind.
        index = end + 1 if end < len(pattern) and pattern[end] in "?*+" else end
    return "".join(out)


@functools.lru_cache(maxsize=1024)
def route_template(route: str) -> str:
    """A Django route (path() or regex, as in ResolverMatch.route) as /api/workflows/{pk}."""
    text = route.replace("^", "").replace("$", "").replace(r"\Z", "")
    text = _replace_regex_groups(text)
    text = _PATH_CONVERTER.sub(r"{\1}", text)
    text = re.sub(r"\[[^\]]*\][*+?]?", "{param}", text)
    return "/" + text.lstrip("/")


def request_route(request: HttpRequest) -> str:
    """The route template that served `request`; resolved here when a middleware answered first."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return UNMATCHED_ROUTE
    return route_template(match.route) if match.route else UNMATCHED_ROUTE


class HttpMetricsMiddleware(PrometheusBeforeMiddleware):
    """Outermost middleware: django-prometheus' totals and latency, plus innominatus_http_requests_total.

    It sits first so that responses produced by other middleware (maintenance 503, redirects) count too.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = super().process_response(request, response)
        method = request.method if request.method in _METHODS else "other"
        labels = {"method": method, "route": request_route(request), "status": str(response.status_code)}
        m.HTTP_REQUESTS.labels(**labels).inc()
        if response.status_code >= 500:
            m.HTTP_ERRORS.labels(**labels).inc()
        return response
