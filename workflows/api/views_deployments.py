"""Deployments of an application: its rendered manifests, rollback, and external resource reports."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from innominatus.accounts.access import team_filter
from innominatus.problems import ProblemError
from workflows.api.errors import problems
from workflows.api.serializers import ResourceSerializer, RevisionSerializer
from workflows.choices import ResourceState
from workflows.models import Application, ManifestSet, ResourceInstance
from workflows.services.deployments import rollback_application
from workflows.services.external import report_external_state

NAME = OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, description="Application name.")


def _application(request: Request, name: str) -> Application:
    return get_object_or_404(Application.objects.filter(team_filter(request.user)), name=name)


class ManifestSetSerializer(serializers.ModelSerializer[ManifestSet]):
    """What a deploy applied (or only rendered); Secret values are masked."""

    class Meta:
        model = ManifestSet
        fields = [
            "id",
            "app_name",
            "revision_number",
            "execution_id",
            "operation",
            "namespace",
            "applied",
            "reason",
            "manifests",
            "created_at",
        ]
        read_only_fields = fields


class RollbackRequestSerializer(serializers.Serializer):
    """Which revision to deploy again."""

    revision = serializers.IntegerField(min_value=1)


class RollbackResponseSerializer(serializers.Serializer):
    """The new revision and the execution deploying it."""

    revision = RevisionSerializer()
    execution = serializers.CharField()


class ExternalStateSerializer(serializers.Serializer):
    """A report about a delegated or external resource."""

    state = serializers.ChoiceField(choices=ResourceState.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    outputs = serializers.DictField(required=False, default=dict)
    reference_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=1000)


class ApplicationManifestsView(APIView):
    """The manifests of the application's latest deploy (or of the deploy of `?revision=`)."""

    required_permissions = {"GET": "specs:read"}

    @extend_schema(
        tags=["applications"],
        summary="Rendered manifests",
        parameters=[NAME, OpenApiParameter("revision", OpenApiTypes.INT, description="Revision number.")],
        responses={200: ManifestSetSerializer, **problems(403, 404)},
    )
    def get(self, request: Request, name: str) -> Response:
        application = _application(request, name)
        sets = ManifestSet.objects.filter(application=application, operation="apply")
        revision = request.query_params.get("revision", "")
        if revision.isdigit():
            sets = sets.filter(revision_number=int(revision))
        found = sets.order_by("-created_at", "-id").first()
        if found is None:
            raise ProblemError(f"nothing has been rendered for {name} yet", status_code=404, code="not_found")
        return Response(ManifestSetSerializer(found).data)


class ApplicationRollbackView(APIView):
    """Deploy an earlier revision's spec again, as a new revision."""

    required_permissions = {"POST": "specs:create"}

    @extend_schema(
        tags=["applications"],
        summary="Roll back to a revision",
        parameters=[NAME],
        request=RollbackRequestSerializer,
        responses={202: RollbackResponseSerializer, **problems(400, 403, 404)},
    )
    def post(self, request: Request, name: str) -> Response:
        application = _application(request, name)
        body = RollbackRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revision, execution = rollback_application(
            application=application, number=body.validated_data["revision"], user=request.user
        )
        answer = {"revision": RevisionSerializer(revision).data, "execution": execution.pk}
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class ResourceExternalStateView(APIView):
    """A delegated or external resource's owner reports its state, outputs and reference URL."""

    required_permissions = {"POST": "resources:write"}

    @extend_schema(
        tags=["resources"],
        summary="Report an external resource's state",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        request=ExternalStateSerializer,
        responses={200: ResourceSerializer, **problems(400, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        visible = ResourceInstance.objects.filter(team_filter(request.user, "application__team"))
        resource = get_object_or_404(visible.defer("secret_outputs"), pk=pk)
        body = ExternalStateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = body.validated_data
        updated = report_external_state(
            resource=resource,
            state=data["state"],
            reason=data["reason"],
            outputs=data["outputs"],
            reference_url=data["reference_url"],
            user=request.user,
        )
        return Response(ResourceSerializer(updated).data)
