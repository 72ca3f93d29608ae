"""The OpenAPI schema tells the whole truth: every operation lists the errors any request can get."""

from typing import Any

from drf_spectacular.openapi import AutoSchema

from innominatus.problems import PROBLEM_CONTENT_TYPE

# Status codes every authenticated operation can answer, whatever the view: bad query parameters,
# authentication, permissions, unknown objects or pages, rate limits and an unreachable database.
COMMON_ERRORS = {
    400: "Invalid request; `errors` lists every problem with its path (query parameters too).",
    401: "Not authenticated.",
    403: "Not allowed.",
    404: "Not found (or owned by another team), or a page past the last one.",
    429: "Rate limited; Retry-After says when to try again.",
    503: "The database is unreachable or a restore is in progress; Retry-After says when to try again.",
}
# gunicorn refuses an over-long request line (414) or header (400) itself, with an HTML page.
SERVER_PAGES = {
    400: "",
    414: "The URL (path and query) is longer than the server accepts (gunicorn: 4094 bytes).",
}
NO_NUL_PATTERN = "^[^\\x00]*$"
# Codes only operations that take a request body can answer.
BODY_ERRORS = {
    413: "The request body is too large.",
    415: "Unsupported content type.",
}


class ProblemAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the problem+json errors that every operation can return."""

    def get_auth(self) -> list[dict[str, Any]]:
        """Public views (the RBAC table's PUBLIC) need no credentials, and the schema says so."""
        from innominatus.accounts import rbac

        if getattr(self.view, "required_permissions", None) == rbac.PUBLIC:
            return []
        auth: list[dict[str, Any]] = super().get_auth()
        return auth

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        from workflows.api.serializers import ProblemSerializer

        codes = dict(COMMON_ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            codes.update(BODY_ERRORS)
        for code, description in codes.items():
            if str(code) in responses:
                continue
            response = self._get_response_for_code(
                ProblemSerializer, str(code), [PROBLEM_CONTENT_TYPE], direction
            )
            response["description"] = description
            responses[str(code)] = response
        for code, description in SERVER_PAGES.items():
            response = responses.setdefault(str(code), {"description": description, "content": {}})
            response.setdefault("content", {})["text/html"] = {"schema": {"type": "string"}}
        return dict(sorted(responses.items()))


def _refuse_nul(schema: Any) -> None:
    """Add NO_NUL_PATTERN to every free string inside `schema` (walks properties and items)."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not ({"enum", "format", "pattern"} & set(schema)):
        schema["pattern"] = NO_NUL_PATTERN
    for key in ("properties",):
        for child in schema.get(key, {}).values():
            _refuse_nul(child)
    for key in ("items", "additionalProperties"):
        _refuse_nul(schema.get(key))
    for key in ("allOf", "anyOf", "oneOf"):
        for child in schema.get(key, []):
            _refuse_nul(child)


def document_nul_refusal(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: strings the API reads (query parameters, request bodies) refuse NUL.

    Django's form and serializer fields refuse NUL characters (PostgreSQL text cannot hold them),
    so the schema says so instead of documenting inputs that always get a 400.
    """
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _refuse_nul(schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("query", "header"):
                    _refuse_nul(parameter.get("schema"))
            for media in operation.get("requestBody", {}).get("content", {}).values():
                _refuse_nul(media.get("schema"))
    return result
