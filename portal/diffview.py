"""A side-by-side diff of two texts as table rows (old on the left, new on the right)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of the side-by-side view; a number is None where that side has no line."""

    kind: str  # equal, replace, delete, insert, skip
    old_number: int | None
    old_text: str
    new_number: int | None
    new_text: str


def side_by_side(old: str, new: str, *, context: int = 3) -> list[DiffRow]:
    """Rows of changed lines with `context` unchanged lines around them; long equal runs become a skip row."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    groups = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_grouped_opcodes(context)
    for index, group in enumerate(groups):
        if index:
            rows.append(DiffRow("skip", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("equal", i + 1, a[i], j + 1, b[j])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            for offset in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + offset, j1 + offset
                rows.append(
                    DiffRow(
                        tag,
                        i + 1 if i < i2 else None,
                        a[i] if i < i2 else "",
                        j + 1 if j < j2 else None,
                        b[j] if j < j2 else "",
                    )
                )
    return rows
