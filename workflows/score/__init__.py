"""Score workload specs: safe parsing, schema and semantic validation, placeholders, canonical form.

Plain Python with no Django model imports, so it is usable and testable without a database.
"""

from workflows.score.builtin_types import BUILTIN_RESOURCE_TYPES
from workflows.score.canonical import canonical_json, content_hash, full_document, normalise
from workflows.score.errors import MAX_PROBLEMS, ScoreProblem, ScoreValidationError
from workflows.score.graph import CycleError, find_cycles, topological_order
from workflows.score.ingest import IngestResult, ingest, split_extensions, validate_spec
from workflows.score.parsing import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    ParsedDocument,
    load_document,
    parse_document,
)
from workflows.score.placeholders import (
    Placeholder,
    PlaceholderError,
    build_resolver,
    container_references,
    find_placeholders,
    find_references,
    iter_substitutable,
    resource_dependencies,
    split_ref,
    substitute,
    substitute_all,
)
from workflows.score.schema import EXTENSION_KEYS, load_schema, score_validator

__all__ = [
    "BUILTIN_RESOURCE_TYPES",
    "EXTENSION_KEYS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_PROBLEMS",
    "CycleError",
    "IngestResult",
    "ParsedDocument",
    "Placeholder",
    "PlaceholderError",
    "ScoreProblem",
    "ScoreValidationError",
    "build_resolver",
    "canonical_json",
    "container_references",
    "content_hash",
    "find_cycles",
    "find_placeholders",
    "find_references",
    "full_document",
    "ingest",
    "iter_substitutable",
    "load_document",
    "load_schema",
    "normalise",
    "parse_document",
    "resource_dependencies",
    "score_validator",
    "split_extensions",
    "split_ref",
    "substitute",
    "substitute_all",
    "topological_order",
    "validate_spec",
]
