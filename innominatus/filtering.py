"""Strict query-string filters: a value of the wrong type is a 400 with its parameter, never ignored."""

from datetime import UTC
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django_filters.filters import BaseCSVFilter
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

BOOLEAN_VALUES = ("true", "false")


def _refusal(filter_: Any, value: str) -> str | None:
    if isinstance(filter_, django_filters.BooleanFilter):
        return None if value in BOOLEAN_VALUES else "Must be true or false."
    # django-filter reads an empty value as "no filter". Text, a choice (the schema lists "") and a
    # comma-separated list (empty = no item) may be empty; a date or a number may not.
    lenient = (forms.CharField, forms.ChoiceField)
    if value == "" and not isinstance(filter_, BaseCSVFilter) and not isinstance(filter_.field, lenient):
        return "May not be empty."
    return None


def _in_utc(value: str) -> str:
    """An ISO date-time with any offset RFC 3339 allows, as UTC (PostgreSQL takes offsets up to 15:59)."""
    moment = parse_datetime(value)
    if moment is None or moment.tzinfo is None:
        return value
    try:
        return moment.astimezone(UTC).isoformat()
    except OverflowError:
        raise serializers.ValidationError({"date-time": [f"{value!r} is out of range."]}) from None


class StrictFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that refuses empty typed values and non-boolean booleans with a 400."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            errors: dict[str, list[str]] = {}
            for name, filter_ in filterset.filters.items():
                for value in request.query_params.getlist(name):
                    refusal = _refusal(filter_, value)
                    if refusal:
                        errors.setdefault(name, []).append(refusal)
            if errors:
                raise serializers.ValidationError(errors)
        return super().filter_queryset(request, queryset, view)

    def get_filterset_kwargs(self, request: Request, queryset: QuerySet[Any], view: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return kwargs
        data = kwargs["data"].copy()
        for name, filter_ in filterset_class.base_filters.items():
            if isinstance(filter_, django_filters.IsoDateTimeFilter) and name in data:
                data.setlist(name, [_in_utc(value) for value in data.getlist(name)])
        kwargs["data"] = data
        return kwargs


class StrictOrderingFilter(OrderingFilter):
    """OrderingFilter that refuses unknown fields with a 400 (and documents the allowed ones)."""

    def _allowed(self, queryset: QuerySet[Any] | None, view: Any, request: Request | None) -> list[str]:
        # Without a queryset (schema generation) the view's explicit ordering_fields decide.
        valid = self.get_valid_fields(queryset, view, {"request": request})  # type: ignore[arg-type]
        return [name for name, _ in valid]

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        raw = request.query_params.get(self.ordering_param)
        if raw is not None:
            allowed = set(self._allowed(queryset, view, request))
            terms = [term.strip() for term in raw.split(",")]
            unknown = [term for term in terms if term.removeprefix("-") not in allowed]
            if unknown:
                raise serializers.ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown field {term!r}; one of: {', '.join(sorted(allowed))}."
                            for term in unknown
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        allowed = sorted(self._allowed(None, view, getattr(view, "request", None)))
        if allowed:
            choice = "-?(" + "|".join(allowed) + ")"
            for parameter in parameters:
                parameter["schema"]["pattern"] = f"^{choice}(,{choice})*$"
                parameter["description"] = (
                    "Comma-separated fields, '-' for descending: " + ", ".join(allowed) + "."
                )
        return parameters
