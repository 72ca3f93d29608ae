"""Pagination shared by every list endpoint, with strictly validated page parameters."""

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


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
