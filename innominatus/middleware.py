"""Refuses requests whose URL holds text no database can store, before any view or audit record sees it."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from innominatus.parsers import invalid_text, shown
from innominatus.problems import PROBLEM_CONTENT_TYPE


class InvalidTextMiddleware:
    """A NUL or lone surrogate in the path or a query parameter is a 400 naming where, not a database error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        errors = []
        reason = invalid_text(request.path)
        if reason:
            errors.append({"path": "url", "message": reason, "code": "invalid_text"})
        for name, values in request.GET.lists():
            reason = invalid_text(name) or next((r for r in map(invalid_text, values) if r), "")
            if reason:
                errors.append({"path": f"query.{shown(name)}", "message": reason, "code": "invalid_text"})
        if not errors:
            return self.get_response(request)
        body = {
            "type": "about:blank",
            "title": "Bad Request",
            "status": 400,
            "detail": "The URL holds text that cannot be stored; see errors.",
            "instance": shown(request.path),
            "errors": errors,
        }
        return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
