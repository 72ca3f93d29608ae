"""Compare deployment revisions: a unified diff of their canonical YAML and a list of changed paths."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

import yaml

from workflows.models import DeploymentRevision
from workflows.score import full_document
from workflows.score.errors import to_dotted, to_pointer

Location = tuple[str | int, ...]


def revision_document(revision: DeploymentRevision) -> dict[str, Any]:
    """The document a revision stands for: its canonical spec with the extension keys put back."""
    return full_document(revision.spec or {}, revision.extensions or {})


def canonical_yaml(document: Any) -> str:
    """A stable YAML rendering (sorted keys, block style) so that diffs show only real changes."""
    return yaml.safe_dump(
        document, sort_keys=True, default_flow_style=False, allow_unicode=True, width=10_000
    )


def diff_revisions(a: DeploymentRevision, b: DeploymentRevision) -> dict[str, Any]:
    """Diff revision `a` (old) against revision `b` (new): unified text plus structured changes."""
    old, new = revision_document(a), revision_document(b)
    unified = "".join(
        difflib.unified_diff(
            canonical_yaml(old).splitlines(keepends=True),
            canonical_yaml(new).splitlines(keepends=True),
            fromfile=f"{a.application.name}@{a.number}",
            tofile=f"{b.application.name}@{b.number}",
        )
    )
    return {"unified": unified, "changes": list(structural_changes(old, new))}


def structural_changes(old: Any, new: Any, location: Location = ()) -> Iterator[dict[str, Any]]:
    """Every added, removed or changed leaf between two JSON documents, in document order."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if key not in new:
                yield _change((*location, key), "removed", old[key], None)
            elif key not in old:
                yield _change((*location, key), "added", None, new[key])
            else:
                yield from structural_changes(old[key], new[key], (*location, key))
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            if index >= len(new):
                yield _change((*location, index), "removed", old[index], None)
            elif index >= len(old):
                yield _change((*location, index), "added", None, new[index])
            else:
                yield from structural_changes(old[index], new[index], (*location, index))
        return
    # bool is an int in Python: compare types too, so `true` -> `1` counts as a change.
    if old != new or type(old) is not type(new):
        yield _change(location, "changed", old, new)


def _change(location: Location, op: str, old: Any, new: Any) -> dict[str, Any]:
    return {"path": to_dotted(location), "pointer": to_pointer(location), "op": op, "old": old, "new": new}
