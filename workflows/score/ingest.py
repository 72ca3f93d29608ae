"""The Score ingest entry point: text in, a validated canonical spec (or every problem) out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.score.builtin_types import BUILTIN_RESOURCE_TYPES
from workflows.score.canonical import canonical_json, full_document, normalise
from workflows.score.errors import ScoreProblem, ScoreValidationError, sort_problems
from workflows.score.graph import topological_order
from workflows.score.legacy import translate
from workflows.score.parsing import MAX_DEPTH, MAX_DOCUMENT_BYTES, load_document
from workflows.score.placeholders import resource_dependencies
from workflows.score.schema import EXTENSION_KEYS, schema_problems
from workflows.score.semantics import semantic_problems
from workflows.score.workload_policy import image_problems


@dataclass(frozen=True)
class IngestResult:
    """An accepted submission: canonical spec, extensions, their canonical text and its hash."""

    spec: dict[str, Any]
    extensions: dict[str, Any]
    canonical: str
    sha256: str
    resource_order: list[str]
    # The original innominatus's shapes that were translated (workflows/score/legacy.py), as
    # {pointer, code, message}: shown to the submitter, never applied silently.
    warnings: tuple[dict[str, str], ...] = ()
    # JSON pointer -> source line, so problems found after ingest (dry runs) can point at their line too.
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The workload name (``metadata.name``)."""
        return str(self.spec["metadata"]["name"])


def split_extensions(document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate the original innominatus top-level keys (workflows, environment) from the Score spec."""
    spec = {key: value for key, value in document.items() if key not in EXTENSION_KEYS}
    extensions = {key: document[key] for key in EXTENSION_KEYS if key in document}
    return spec, extensions


def validate_spec(
    spec: Mapping[str, Any],
    *,
    known_types: Collection[str] = BUILTIN_RESOURCE_TYPES,
    lines: Mapping[str, int] | None = None,
    image_allowed: Callable[[str], bool] | None = None,
) -> list[ScoreProblem]:
    """All problems of a parsed spec (without extensions): schema first, then semantics.

    A semantic problem at or below a place the schema already rejected is dropped, so each
    mistake is reported once, in the schema's words; identical problems are reported once.
    """
    lines = lines or {}
    structural = schema_problems(spec, lines)
    rejected = [problem.pointer for problem in structural]
    semantic = [
        problem
        for problem in semantic_problems(spec, known_types=known_types, lines=lines)
        if not any(problem.is_within(pointer) for pointer in rejected)
    ]
    if image_allowed is not None:
        semantic += [
            p for p in image_problems(spec, image_allowed, lines) if not any(p.is_within(r) for r in rejected)
        ]
    return sort_problems(structural + semantic)


# NUL cannot be stored in any database text; a lone surrogate (JSON "\ud800") cannot even be encoded.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(text: str) -> str:
    found = _UNSTORABLE.search(text)
    if found is None:
        return ""
    if found.group() == "\x00":
        return "NUL characters are not allowed"
    return f"invalid Unicode: lone surrogate U+{ord(found.group()):04X} is not allowed"


def nul_problems(
    value: Any, location: tuple[str | int, ...] = (), lines: Mapping[str, int] | None = None
) -> list[ScoreProblem]:
    """Text no database can store (NUL, lone surrogates) anywhere, in keys or values: refuse it."""
    found: list[ScoreProblem] = []
    if isinstance(value, str):
        reason = _unstorable(value)
        if reason:
            code = "nul-character" if "NUL" in reason else "invalid-unicode"
            found.append(ScoreProblem.at(location, code=code, message=reason, lines=lines))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            reason = _unstorable(str(key))
            if reason:
                code = "nul-character" if "NUL" in reason else "invalid-unicode"
                found.append(ScoreProblem.at(location, code=code, message=f"{reason} in keys", lines=lines))
                continue
            found.extend(nul_problems(item, (*location, str(key)), lines))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(nul_problems(item, (*location, index), lines))
    return found


def size_problems(
    document: Mapping[str, Any], *, max_resources: int | None, max_containers: int | None
) -> list[ScoreProblem]:
    """More resources or containers than the platform allows: refused before any costly validation."""
    found: list[ScoreProblem] = []
    for key, limit, setting in (
        ("resources", max_resources, "SCORE_MAX_RESOURCES"),
        ("containers", max_containers, "SCORE_MAX_CONTAINERS"),
    ):
        declared = document.get(key)
        if limit is not None and isinstance(declared, Mapping) and len(declared) > limit:
            message = f"declares {len(declared)} {key}; at most {limit} are allowed here ({setting})"
            found.append(ScoreProblem.at((key,), code=f"too-many-{key}", message=message))
    return found


def ingest(
    text: str | bytes,
    *,
    content_type: str | None = None,
    known_types: Collection[str] = BUILTIN_RESOURCE_TYPES,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
    image_allowed: Callable[[str], bool] | None = None,
    max_resources: int | None = None,
    max_containers: int | None = None,
) -> IngestResult:
    """Parse, validate and canonicalise a Score submission; raises ScoreValidationError with all problems."""
    parsed = load_document(text, content_type=content_type, max_bytes=max_bytes, max_depth=max_depth)
    refused = nul_problems(parsed.data, lines=parsed.lines) or size_problems(
        parsed.data, max_resources=max_resources, max_containers=max_containers
    )
    if refused:
        raise ScoreValidationError(refused)
    translated, legacy = translate(parsed.data)
    spec, extensions = split_extensions(translated)
    problems = validate_spec(spec, known_types=known_types, lines=parsed.lines, image_allowed=image_allowed)
    if problems:
        raise ScoreValidationError(problems)
    canonical_spec = normalise(spec)
    canonical = canonical_json(full_document(canonical_spec, extensions))
    return IngestResult(
        spec=canonical_spec,
        extensions=extensions,
        canonical=canonical,
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        resource_order=topological_order(resource_dependencies(canonical_spec)),
        warnings=tuple(w.as_dict() for w in legacy),
        lines=dict(parsed.lines or {}),
    )
