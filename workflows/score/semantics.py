"""Checks beyond the schema: placeholders, resource types, cycles, Pod Security, what a server cannot do.

Every check tolerates values of the wrong type (the schema reports those), so all checks run on
any mapping and all problems are reported together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Any

from workflows.score.errors import Location, ScoreProblem
from workflows.score.graph import find_cycles
from workflows.score.placeholders import (
    PlaceholderError,
    find_placeholders,
    iter_substitutable,
    lookup,
    resource_dependencies,
)
from workflows.score.workload_policy import pod_security_problems

BUILT_IMAGE = "."


def semantic_problems(
    document: Mapping[str, Any], *, known_types: Collection[str], lines: Mapping[str, int]
) -> list[ScoreProblem]:
    """Every semantic problem of a (schema-shaped) Score document."""
    problems: list[ScoreProblem] = []
    problems += _container_problems(document, lines)
    problems += _resource_type_problems(document, known_types, lines)
    problems += _placeholder_problems(document, lines)
    problems += _cycle_problems(document, lines)
    problems += pod_security_problems(document, lines)
    return problems


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _containers(document: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, container in _mapping(document.get("containers")).items():
        if isinstance(container, dict):
            yield name, container


def _container_problems(document: Mapping[str, Any], lines: Mapping[str, int]) -> list[ScoreProblem]:
    problems: list[ScoreProblem] = []
    names = set(_mapping(document.get("containers")))
    for name, container in _containers(document):
        base = ("containers", name)
        if container.get("image") == BUILT_IMAGE:
            problems.append(
                ScoreProblem.at(
                    (*base, "image"),
                    code="image-build-unsupported",
                    message=(
                        "image '.' asks the tooling to build an image from local sources, which innominatus "
                        "does not do; build and push the image first, then set its reference "
                        "(for example registry.example.com/team/app:1.2.3)"
                    ),
                    lines=lines,
                )
            )
        for key, file in _collection(container, "files", base, lines, problems):
            if "source" in file:
                problems.append(
                    ScoreProblem.at(
                        (*base, "files", key, "source"),
                        code="file-source-unsupported",
                        message=(
                            "'source' names a file on your machine, which the server cannot read; "
                            "put the file into the spec with 'content' (text) or 'binaryContent' (base64)"
                        ),
                        lines=lines,
                    )
                )
        _collection(container, "volumes", base, lines, problems)
        for other in _mapping(container.get("before")):
            if other not in names or other == name:
                why = "itself" if other == name else f"'{other}', which is not a container of this workload"
                problems.append(
                    ScoreProblem.at(
                        (*base, "before", other),
                        code="unknown-container",
                        message=f"'before' refers to {why}",
                        lines=lines,
                    )
                )
    return problems


def _collection(
    container: dict[str, Any],
    field: str,
    base: Location,
    lines: Mapping[str, int],
    problems: list[ScoreProblem],
) -> list[tuple[str | int, dict[str, Any]]]:
    """Entries of files/volumes; the deprecated list form must name each target, once."""
    value = container.get(field)
    if isinstance(value, dict):
        return [(key, item) for key, item in value.items() if isinstance(item, dict)]
    entries: list[tuple[str | int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value if isinstance(value, list) else []):
        if not isinstance(item, dict):
            continue
        target = item.get("target")
        location = (*base, field, index, "target")
        if not isinstance(target, str) or not target:
            message = f"each entry of the list form of '{field}' needs a 'target' path"
            problems.append(ScoreProblem.at(location, code="target-missing", message=message, lines=lines))
        elif target in seen:
            message = f"target '{target}' is already used by entry {seen[target]}"
            problems.append(ScoreProblem.at(location, code="duplicate-target", message=message, lines=lines))
        else:
            seen[target] = index
        entries.append((index, item))
    return entries


def _resource_type_problems(
    document: Mapping[str, Any], known_types: Collection[str], lines: Mapping[str, int]
) -> list[ScoreProblem]:
    problems = []
    known = ", ".join(sorted(known_types)) or "(none)"
    for name, resource in _mapping(document.get("resources")).items():
        kind = resource.get("type") if isinstance(resource, dict) else None
        if isinstance(kind, str) and kind not in known_types:
            problems.append(
                ScoreProblem.at(
                    ("resources", name, "type"),
                    code="unknown-resource-type",
                    message=f"unknown resource type '{kind}'; known types: {known}",
                    lines=lines,
                )
            )
    return problems


def _placeholder_problems(document: Mapping[str, Any], lines: Mapping[str, int]) -> list[ScoreProblem]:
    problems = []
    declared = _mapping(document.get("resources"))
    metadata = _mapping(document.get("metadata"))
    for location, text in iter_substitutable(document):
        if location[0] == "containers" and location[2] == "files" and location[-1] == "source":
            continue  # refused as a whole (file-source-unsupported)
        try:
            placeholders = find_placeholders(text)
        except PlaceholderError as exc:
            problems.append(
                ScoreProblem.at(location, code="placeholder-unterminated", message=str(exc), lines=lines)
            )
            continue
        for placeholder in placeholders:
            found = _check_reference(placeholder.parts, metadata, declared)
            if found is not None:
                code, why = found
                message = f"'${{{placeholder.ref}}}' {why}"
                problems.append(ScoreProblem.at(location, code=code, message=message, lines=lines))
    return problems


def _check_reference(
    parts: list[str], metadata: Mapping[str, Any], declared: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(code, reason) when a reference cannot resolve; None when it can (or may, once provisioned)."""
    root = parts[0]
    if root not in ("metadata", "resources"):
        return (
            "placeholder-unknown-root",
            "is not a known placeholder: references start with 'metadata.' or 'resources.'; "
            "write '$${…}' to keep a literal '${…}'",
        )
    if len(parts) < 2 or not parts[1]:
        what = "a metadata key" if root == "metadata" else "a resource name"
        return "placeholder-incomplete", f"needs {what} after '{root}.'"
    if root == "metadata":
        try:
            lookup(metadata, parts[1:])
        except PlaceholderError as exc:
            return "placeholder-missing-metadata", f"refers to metadata that is not set: {exc}"
        return None
    if parts[1] not in declared:
        names = ", ".join(sorted(declared)) or "none"
        return (
            "placeholder-unknown-resource",
            f"refers to resource '{parts[1]}', which is not declared under 'resources' (declared: {names})",
        )
    return None


def _cycle_problems(document: Mapping[str, Any], lines: Mapping[str, int]) -> list[ScoreProblem]:
    problems = []
    for cycle in find_cycles(resource_dependencies(document)):
        chain = " -> ".join(cycle)
        problems.append(
            ScoreProblem.at(
                ("resources", cycle[0], "params"),
                code="resource-cycle",
                message=f"resources depend on each other's outputs in a cycle: {chain}",
                lines=lines,
            )
        )
    return problems
