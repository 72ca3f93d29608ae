"""State changes on one execution: cancel, retry, approve and reject (mixed into ExecutionViewSet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from innominatus.problems import Conflict
from workflows.api.errors import problems
from workflows.api.serializers import ExecutionDetailSerializer, ExecutionSerializer
from workflows.models import WorkflowExecution
from workflows.services import executions


class TextField(serializers.CharField):
    """A JSON string only: a number or boolean where text is expected is refused, not converted."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class DecisionSerializer(serializers.Serializer):
    """A person's decision on a waiting gate (or a reason for cancelling)."""

    step = TextField(required=False, allow_blank=True, help_text="Gate step name (default: first).")
    comment = TextField(required=False, allow_blank=True, max_length=2000, default="")


class ExecutionActionsMixin:
    """POST actions that move an execution; each is a thin call into workflows.services.executions."""

    get_object: Any

    def _decision(self, request: Request) -> dict[str, Any]:
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return dict(body.validated_data)

    def _detail(self, execution: WorkflowExecution, code: int = status.HTTP_200_OK) -> Response:
        fresh = WorkflowExecution.objects.prefetch_related("steps").get(pk=execution.pk)
        return Response(ExecutionDetailSerializer(fresh).data, status=code)

    @extend_schema(
        summary="Cancel an execution",
        description="Pending and waiting steps are cancelled at once; running steps stop within a second.",
        request=DecisionSerializer,
        responses={200: ExecutionDetailSerializer, **problems(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        execution = self.get_object()
        decision = self._decision(request)
        try:
            executions.cancel_execution(execution=execution, user=request.user, reason=decision["comment"])
        except executions.ActionNotAllowed as exc:
            raise Conflict(str(exc)) from None
        return self._detail(execution)

    @extend_schema(
        summary="Retry a failed or cancelled execution",
        description="Starts a new execution linked to this one; completed steps are reused with their outputs.",
        request=None,
        responses={201: ExecutionSerializer, **problems(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        execution = self.get_object()
        try:
            retried = executions.retry_execution(execution=execution, user=request.user)
        except executions.ActionNotAllowed as exc:
            raise Conflict(str(exc)) from None
        return Response(ExecutionSerializer(retried).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Approve a waiting gate",
        request=DecisionSerializer,
        responses={200: ExecutionDetailSerializer, **problems(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._decide(request, executions.approve_step)

    @extend_schema(
        summary="Reject a waiting gate",
        request=DecisionSerializer,
        responses={200: ExecutionDetailSerializer, **problems(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._decide(request, executions.reject_step)

    def _decide(self, request: Request, service: Callable[..., Any]) -> Response:
        """Record a person's decision on a waiting gate through `service` (approve_step or reject_step)."""
        execution = self.get_object()
        decision = self._decision(request)
        try:
            service(
                execution=execution,
                user=request.user,
                step_name=decision.get("step") or None,
                comment=decision["comment"],
            )
        except executions.ActionNotAllowed as exc:
            raise Conflict(str(exc)) from None
        return self._detail(execution)
