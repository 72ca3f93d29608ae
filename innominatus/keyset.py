"""Keyset (cursor) pagination for the collections that grow with history: O(page), never O(table).

A page is `ORDER BY <ordering>, pk LIMIT n+1` after a condition "comes after the last row seen", so the
database walks an index from the cursor and stops: the cost of page 20 000 is the cost of page 1, and
rows inserted or deleted while a client pages never make it see a row twice or skip one it could see.
When every key is NOT NULL and sorts the same way the condition is a row comparison
(`(created_at, id) < (%s, %s)`), which PostgreSQL turns into an index range; otherwise it is the
equivalent lexicographic OR with the NULL ordering spelled out (NULLS LAST ascending, NULLS FIRST
descending: PostgreSQL's defaults, which its b-tree indexes serve).

The cursor is opaque to clients (base64 JSON of the last row's key values, the direction and the
ordering it belongs to); a cursor of another ordering or a forged one is a 400 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import BooleanField, F, Field, Model, Q, QuerySet
from django.db.models.expressions import OrderBy, RawSQL


@dataclass(frozen=True)
class Key:
    """One sort key: a concrete column of the model, its direction and where its NULLs sort."""

    field: Field[Any, Any]
    descending: bool

    @property
    def name(self) -> str:
        return str(self.field.attname)

    @property
    def nullable(self) -> bool:
        return bool(self.field.null)

    @property
    def nulls_first(self) -> bool:
        return self.descending

    def reversed(self) -> Key:
        return Key(self.field, not self.descending)

    def order_by(self) -> OrderBy:
        column = F(self.name)
        if not self.nullable:
            return column.desc() if self.descending else column.asc()
        if self.descending:
            return column.desc(nulls_first=True)
        return column.asc(nulls_last=True)


class CursorError(ValueError):
    """The cursor does not decode, or belongs to another ordering."""


def keys_for(model: type[Model], ordering: list[str]) -> list[Key]:
    """The sort keys of `ordering` (model field names, `-` for descending), the primary key appended."""
    keys: list[Key] = []
    pk = model._meta.pk
    assert pk is not None
    for item in ordering:
        if not isinstance(item, str):
            raise TypeError(f"Keyset pagination needs field names in the ordering, got {item!r}.")
        descending = item.startswith("-")
        name = item.lstrip("-")
        field = pk if name == "pk" else model._meta.get_field(name)
        if (
            not isinstance(field, Field)
            or not field.concrete
            or (field.is_relation and not field.many_to_one)
        ):
            raise TypeError(f"Keyset pagination needs concrete columns, {name!r} is not one.")
        keys.append(Key(field, descending))
        if field.primary_key:
            return keys
    last_descending = keys[-1].descending if keys else False
    keys.append(Key(pk, last_descending))
    return keys


def encode(keys: list[Key], values: list[Any], reverse: bool) -> str:
    body = {
        "o": [("-" if key.descending else "") + key.name for key in keys],
        "v": [
            value.isoformat() if isinstance(value, datetime.datetime | datetime.date) else value
            for value in values
        ],
        "r": 1 if reverse else 0,
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(keys: list[Key], token: str) -> tuple[list[Any], bool]:
    """The key values and direction a cursor holds; CursorError when it is not one of this ordering."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
        ordering = body["o"]
        values = body["v"]
        reverse = body["r"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise CursorError("Not a cursor of this list.") from None
    expected = [("-" if key.descending else "") + key.name for key in keys]
    if (
        ordering != expected
        or not isinstance(values, list)
        or len(values) != len(keys)
        or reverse not in (0, 1)
    ):
        raise CursorError("The cursor belongs to another ordering; start again from the first page.")
    try:
        parsed = [
            None if value is None else key.field.to_python(value)
            for key, value in zip(keys, values, strict=True)
        ]
    except Exception:  # any conversion failure of client input is a bad cursor
        raise CursorError("Not a cursor of this list.") from None
    for key, value in zip(keys, parsed, strict=True):
        if value is None and not key.nullable:
            raise CursorError("Not a cursor of this list.")
        if isinstance(value, datetime.datetime) and value.tzinfo is None:
            raise CursorError("Not a cursor of this list.")
    return parsed, bool(reverse)


def values_of(keys: list[Key], row: Model) -> list[Any]:
    return [getattr(row, key.name) for key in keys]


def ordered(queryset: QuerySet[Any], keys: list[Key]) -> QuerySet[Any]:
    return queryset.order_by(*(key.order_by() for key in keys))


def after(queryset: QuerySet[Any], keys: list[Key], values: list[Any]) -> QuerySet[Any]:
    """Rows that come strictly after the row with key `values` in the order of `keys`."""
    simple = all(not key.nullable for key in keys) and len({key.descending for key in keys}) == 1
    if simple:
        connection = connections[queryset.db]
        table = connection.ops.quote_name(queryset.model._meta.db_table)
        columns = ", ".join(f"{table}.{connection.ops.quote_name(key.field.column)}" for key in keys)
        placeholders = ", ".join(["%s"] * len(keys))
        operator = "<" if keys[0].descending else ">"
        params = [
            key.field.get_db_prep_value(value, connection) for key, value in zip(keys, values, strict=True)
        ]
        # Column names and the operator come from the model, the values are bound parameters.
        condition = RawSQL(  # noqa: S611  # nosec B611 - model columns, bound values
            f"({columns}) {operator} ({placeholders})", params, output_field=BooleanField()
        )
        return queryset.filter(condition)
    disjunction = Q(pk__in=[])
    equal_so_far = Q()
    for key, value in zip(keys, values, strict=True):
        disjunction |= equal_so_far & _strictly_after(key, value)
        equal_so_far &= Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})
    return queryset.filter(disjunction)


def _strictly_after(key: Key, value: Any) -> Q:
    if value is None:
        # NULLs first: every non-NULL value follows; NULLs last: nothing follows a NULL.
        return Q(**{f"{key.name}__isnull": False}) if key.nulls_first else Q(pk__in=[])
    comparison = Q(**{f"{key.name}__{'lt' if key.descending else 'gt'}": value})
    if key.nullable and not key.nulls_first:
        comparison |= Q(**{f"{key.name}__isnull": True})
    return comparison
