"""Score placeholders: ``${metadata.key}``, ``${resources.name.key}``, ``$$`` escapes, ``\\.`` in keys.

The scanner follows score-go's substitution (``framework/substitution.go``) character for
character: ``$$`` becomes ``$``, ``$${…}`` becomes the literal ``${…}``, a ``$`` before anything
else is kept, and the text between ``${`` and the next ``}`` is the reference, split on dots
that are not escaped as ``\\.``. One deliberate difference: score-go leaves an unterminated
``${`` as literal text, which hides typos; here it is an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.score.errors import Location

Resolver = Callable[[list[str]], str]


class PlaceholderError(ValueError):
    """A placeholder that cannot be read or resolved."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``${…}`` occurrence: the raw reference, its parts, and its span in the string."""

    ref: str
    parts: list[str]
    start: int
    end: int


def split_ref(ref: str) -> list[str]:
    """Split a reference on unescaped dots: ``a.b\\.c`` -> ``["a", "b.c"]``."""
    return [part.replace("\0", ".") for part in ref.replace("\\.", "\0").split(".")]


def _scan(value: str) -> Iterator[str | Placeholder]:
    """Yield literal text and placeholders in order; raise PlaceholderError on an unterminated ``${``."""
    # Knowing where the last '}' is keeps hostile input (thousands of '${') linear, not quadratic.
    last_close = value.rfind("}")
    i = 0
    while i < len(value):
        j = value.find("$", i)
        if j < 0:
            yield value[i:]
            return
        if j > i:
            yield value[i:j]
        follower = value[j + 1 : j + 2]
        if follower == "$":
            if value[j + 2 : j + 3] == "{" and j + 3 <= last_close:
                end = value.find("}", j + 3)
                yield value[j + 1 : end + 1]
                i = end + 1
            else:
                yield "$"
                i = j + 2
        elif follower == "{":
            if j + 2 > last_close:
                raise PlaceholderError(
                    f"unterminated placeholder at character {j + 1}: close it with '}}' "
                    "or write '$$' for a literal '$'"
                )
            end = value.find("}", j + 2)
            ref = value[j + 2 : end]
            yield Placeholder(ref=ref, parts=split_ref(ref), start=j, end=end + 1)
            i = end + 1
        else:
            yield "$"
            i = j + 1


def find_placeholders(value: str) -> list[Placeholder]:
    """All placeholders of a string (escapes excluded); raises PlaceholderError when unterminated."""
    return [token for token in _scan(value) if isinstance(token, Placeholder)]


def substitute(value: str, resolver: Resolver) -> str:
    """Replace every placeholder with ``resolver(parts)`` and unescape ``$$``."""
    return "".join(token if isinstance(token, str) else resolver(token.parts) for token in _scan(value))


def substitute_all(value: Any, resolver: Resolver) -> Any:
    """Substitute in every string of a nested structure of dicts and lists (keys are left alone)."""
    if isinstance(value, str):
        return substitute(value, resolver)
    if isinstance(value, dict):
        return {key: substitute_all(item, resolver) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute_all(item, resolver) for item in value]
    return value


def _entries(collection: Any) -> Iterator[tuple[str | int, Any]]:
    """(key, item) of a files/volumes collection in either the map form or the deprecated list form."""
    if isinstance(collection, dict):
        yield from collection.items()
    elif isinstance(collection, list):
        yield from enumerate(collection)


def _strings(value: Any, location: Location) -> Iterator[tuple[Location, str]]:
    if isinstance(value, str):
        yield location, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*location, index))


def iter_substitutable(spec: Mapping[str, Any]) -> Iterator[tuple[Location, str]]:
    """Every string in which Score expands placeholders, with its location.

    As in score-compose and score-k8s: container variables, file content (unless
    ``noExpand``; never ``binaryContent``), file and volume sources, and resource params.
    """
    containers = spec.get("containers")
    for name, container in containers.items() if isinstance(containers, dict) else ():
        if not isinstance(container, dict):
            continue
        base = ("containers", name)
        variables = container.get("variables")
        for key, text in variables.items() if isinstance(variables, dict) else ():
            if isinstance(text, str):
                yield (*base, "variables", key), text
        for key, file in _entries(container.get("files")):
            if not isinstance(file, dict):
                continue
            if isinstance(file.get("content"), str) and file.get("noExpand") is not True:
                yield (*base, "files", key, "content"), file["content"]
            if isinstance(file.get("source"), str):
                yield (*base, "files", key, "source"), file["source"]
        for key, volume in _entries(container.get("volumes")):
            if isinstance(volume, dict) and isinstance(volume.get("source"), str):
                yield (*base, "volumes", key, "source"), volume["source"]
    yield from _resource_param_strings(spec)


def _resource_param_strings(spec: Mapping[str, Any]) -> Iterator[tuple[Location, str]]:
    resources = spec.get("resources")
    for name, resource in resources.items() if isinstance(resources, dict) else ():
        if isinstance(resource, dict) and "params" in resource:
            yield from _strings(resource["params"], ("resources", name, "params"))


def _referenced_resources(text: str) -> set[str]:
    try:
        found = find_placeholders(text)
    except PlaceholderError:
        return set()
    return {p.parts[1] for p in found if len(p.parts) >= 2 and p.parts[0] == "resources"}


def find_references(spec: Mapping[str, Any]) -> set[str]:
    """Names of all resources that the spec's placeholders refer to (declared or not)."""
    names: set[str] = set()
    for _, text in iter_substitutable(spec):
        names |= _referenced_resources(text)
    return names


def resource_dependencies(spec: Mapping[str, Any]) -> dict[str, set[str]]:
    """For each resource, the resources its params refer to (an edge means "needs the outputs of")."""
    resources = spec.get("resources")
    graph: dict[str, set[str]] = {name: set() for name in resources} if isinstance(resources, dict) else {}
    for location, text in _resource_param_strings(spec):
        graph[str(location[1])] |= _referenced_resources(text)
    return graph


def container_references(spec: Mapping[str, Any]) -> dict[str, set[str]]:
    """For each container, the resources its variables, files and volumes refer to."""
    containers = spec.get("containers")
    refs: dict[str, set[str]] = {name: set() for name in containers} if isinstance(containers, dict) else {}
    for location, text in iter_substitutable(spec):
        if location[0] == "containers":
            refs[str(location[1])] |= _referenced_resources(text)
    return refs


def lookup(context: Any, keys: list[str]) -> Any:
    """Walk nested mappings by keys, as score-go's lookup does; raise PlaceholderError when missing."""
    value = context
    for key in keys:
        if not isinstance(value, Mapping):
            raise PlaceholderError(f"cannot look up key '{key}': the value there is not a mapping")
        if key not in value:
            raise PlaceholderError(f"key '{key}' not found")
        value = value[key]
    return value


def build_resolver(metadata: Mapping[str, Any], outputs: Mapping[str, Any]) -> Resolver:
    """A resolver over workload metadata and provisioned resource outputs (score-go semantics).

    Non-string results are rendered as JSON, so ``${resources.db}`` yields the whole output map.
    """

    def resolve(parts: list[str]) -> str:
        ref = ".".join(part.replace(".", "\\.") for part in parts)
        root, keys = parts[0], parts[1:]
        if root not in ("metadata", "resources"):
            raise PlaceholderError(
                f"invalid ref '{ref}': unknown reference root, use $$ to escape the substitution"
            )
        if not keys:
            raise PlaceholderError(f"invalid ref '{ref}': requires at least a {root} key to look up")
        if root == "resources" and keys[0] not in outputs:
            raise PlaceholderError(f"invalid ref '{ref}': no known resource '{keys[0]}'")
        try:
            value = lookup(metadata if root == "metadata" else outputs, keys)
        except PlaceholderError as exc:
            raise PlaceholderError(f"invalid ref '{ref}': {exc}") from None
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))

    return resolve
