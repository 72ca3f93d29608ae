"""Pagination shared by every list endpoint, with strictly validated page parameters."""

import json
from typing import Any

from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from innominatus import keyset


class StandardPagination(PageNumberPagination):
    """Page-number pagination with a client-chosen page size, capped to keep responses bounded.

    `page` and `page_size` are positive integers (page_size at most max_page_size); anything else
    is a 400 naming the parameter, never silently replaced by a default. A page past the last is 404.
    """

    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()

    def _number(self, request: Request, name: str, maximum: int | None) -> int | None:
        """The positive integer in query parameter `name` (None when absent); 400 naming it if invalid."""
        raw = request.query_params.get(name)
        if raw is None:
            return None
        field = (
            serializers.IntegerField(min_value=1, max_value=maximum)
            if maximum is not None
            else serializers.IntegerField(min_value=1)
        )
        try:
            return int(field.run_validation(raw))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({name: error.detail}) from None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self._number(request, self.page_query_param, None)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int | None:
        return self._number(request, self.page_size_query_param, self.max_page_size) or self.page_size

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema = parameter["schema"]
            schema["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                schema["maximum"] = self.max_page_size
        return parameters


class KeysetPagination(StandardPagination):
    """Cursor pagination for collections that grow with history (executions, resources, audit log).

    Each page costs one indexed range scan of `page_size + 1` rows (innominatus.keyset), however deep:
    no OFFSET and no COUNT over the whole collection. `count` is exact when the collection is at most
    `count_cap` rows; above that it is the planner's estimate (PostgreSQL) or the cap, and
    `count_is_estimate` says so. Clients follow `next` / `previous` and never build cursors themselves.
    """

    cursor_query_param = "cursor"
    count_cap = 1000

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        self.request = request
        if self.page_query_param in request.query_params:
            message = "This list pages by cursor: follow the `next` and `previous` links."
            raise serializers.ValidationError({self.page_query_param: [message]})
        page_size = self.get_page_size(request) or 50
        ordering = [str(item) for item in queryset.query.order_by] or list(queryset.model._meta.ordering)
        self.keys = keyset.keys_for(queryset.model, ordering)
        self.base = queryset
        token = request.query_params.get(self.cursor_query_param)
        reverse = False
        page_qs = queryset
        if token is not None:
            try:
                values, reverse = keyset.decode(self.keys, token)
            except keyset.CursorError as error:
                raise serializers.ValidationError({self.cursor_query_param: [str(error)]}) from None
            keys = [key.reversed() for key in self.keys] if reverse else self.keys
            page_qs = keyset.after(queryset, keys, values)
        keys = [key.reversed() for key in self.keys] if reverse else self.keys
        rows = list(keyset.ordered(page_qs, keys)[: page_size + 1])
        more = len(rows) > page_size
        rows = rows[:page_size]
        if reverse:
            rows.reverse()
        self.rows = rows
        self.has_next = (token is not None) if reverse else more
        self.has_previous = more if reverse else token is not None
        return rows

    def _link(self, row: Any, reverse: bool) -> str:
        assert self.request is not None
        url = self.request.build_absolute_uri()
        token = keyset.encode(self.keys, keyset.values_of(self.keys, row), reverse)
        return replace_query_param(url, self.cursor_query_param, token)

    def get_next_link(self) -> str | None:
        return self._link(self.rows[-1], False) if self.has_next and self.rows else None

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        assert self.request is not None
        if not self.rows:  # a cursor past the end: the previous page is the last one
            return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)
        return self._link(self.rows[0], True)

    def count(self) -> tuple[int, bool]:
        """(count, is_estimate): exact up to count_cap rows, estimated above."""
        if not self.has_next and not self.has_previous:
            return len(self.rows), False
        plain = self.base.order_by().values("pk")
        capped = plain[: self.count_cap + 1].count()
        if capped <= self.count_cap:
            return capped, False
        return max(self.count_cap + 1, estimate_rows(plain)), True

    def get_paginated_response(self, data: Any) -> Response:
        count, estimated = self.count()
        return Response(
            {
                "count": count,
                "count_is_estimate": estimated,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["count", "count_is_estimate", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": f"Exact up to {self.count_cap} rows; above that an estimate.",
                },
                "count_is_estimate": {"type": "boolean", "description": "Whether `count` is estimated."},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": "Number of results per page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


def estimate_rows(queryset: Any) -> int:
    """The planner's row estimate for `queryset` (PostgreSQL), without running it; 0 elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return 0
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(DjangoPaginator):
    """A Django Paginator (admin changelists) whose count never scans more than `cap` rows.

    Up to the cap the count is exact; above it, the planner's estimate (PostgreSQL) of the filtered
    queryset, at least cap + 1. The admin then shows a page count that may be off by the estimate's
    error on huge tables, instead of spending seconds counting them on every page view.
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        plain = self.object_list.order_by().values("pk")  # type: ignore[attr-defined]
        capped = int(plain[: self.cap + 1].count())
        if capped <= self.cap:
            return capped
        return max(self.cap + 1, estimate_rows(plain))
