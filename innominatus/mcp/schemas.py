"""Tool input schemas derived from the API's own OpenAPI description (its serializers and parameters).

drf-spectacular generates the same document /api/schema/ serves; a tool's input schema is the
operation's path and query parameters plus its JSON request body, with every `$ref` inlined so an
agent needs nothing else. Golden-path parameter specs become JSON schemas the same way the engine
validates them (types, bounds, patterns, allowed values).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

# Pagination and header parameters an agent does not need; `page` stays so lists can be walked.
_DROPPED_PARAMETERS = frozenset({"X-Comment", "page_size"})
_MAX_REF_DEPTH = 12


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document (generated once per process, like /api/schema/)."""
    from drf_spectacular.generators import SchemaGenerator

    document: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return document


def _inline(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    if depth > _MAX_REF_DEPTH:
        return {}
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            target = components.get(ref.rsplit("/", 1)[-1], {})
            merged = {
                **_inline(target, components, depth + 1),
                **{k: v for k, v in node.items() if k != "$ref"},
            }
            return merged
        return {key: _inline(value, components, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, components, depth + 1) for item in node]
    return node


def operation(method: str, path: str) -> dict[str, Any]:
    """The OpenAPI operation for `method path` (a path template such as /api/workflows/{id})."""
    return dict(openapi_document()["paths"][path][method.lower()])


def operation_input(
    method: str, path: str, *, exclude: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, str]]:
    """(JSON schema of a tool's arguments, where each argument goes: "path" | "query" | "body")."""
    components = openapi_document().get("components", {}).get("schemas", {})
    op = operation(method, path)
    properties: dict[str, Any] = {}
    required: list[str] = []
    places: dict[str, str] = {}
    for parameter in op.get("parameters", []):
        name = parameter["name"]
        if name in _DROPPED_PARAMETERS or name in exclude or parameter["in"] not in ("path", "query"):
            continue
        property_schema = _inline(copy.deepcopy(parameter.get("schema", {})), components)
        if parameter.get("description"):
            property_schema["description"] = parameter["description"]
        properties[name] = property_schema
        places[name] = parameter["in"]
        if parameter.get("required"):
            required.append(name)
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = _inline(copy.deepcopy(content["application/json"].get("schema", {})), components)
        for name, field_schema in body.get("properties", {}).items():
            if name in exclude:
                continue
            properties[name] = field_schema
            places[name] = "body"
        required.extend(n for n in body.get("required", []) if n not in exclude and n not in required)
    result: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        result["required"] = required
    return result, places


_TYPES = {
    "string": {"type": "string"},
    "int": {"type": "integer"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "boolean": {"type": "boolean"},
    "duration": {"type": "string", "description": "A duration such as 30s, 15m, 2h or 7d."},
    "enum": {},
    "json": {},
}


def parameters_schema(specs: list[dict[str, Any]]) -> dict[str, Any]:
    """A JSON schema for a golden path's parameters (the API's `parameters` list of specs)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for spec in specs:
        schema: dict[str, Any] = dict(_TYPES.get(str(spec.get("type", "string")), {}))
        if spec.get("description"):
            schema["description"] = spec["description"]
        if spec.get("default") is not None:
            schema["default"] = spec["default"]
        if spec.get("allowed_values") is not None:
            schema["enum"] = list(spec["allowed_values"])
        if spec.get("pattern") and schema.get("type") == "string":
            schema["pattern"] = spec["pattern"]
        bounds = ("minimum", "maximum") if schema.get("type") in ("integer", "number") else ()
        if schema.get("type") == "string" and spec.get("type") == "string":
            bounds = ("minLength", "maxLength")
        for key, value in zip(bounds, (spec.get("minimum"), spec.get("maximum")), strict=False):
            if value is not None:
                schema[key] = int(value) if key.endswith("Length") else value
        properties[str(spec["name"])] = schema
        if spec.get("required") and spec.get("default") is None:
            required.append(str(spec["name"]))
    result: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    return result
