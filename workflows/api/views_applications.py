"""Applications, their deployment revisions, and the deprecated /api/specs alias."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from innominatus.accounts.access import team_filter
from innominatus.parsers import SPEC_PARSERS, YAML_MEDIA_TYPES
from workflows.api.errors import problems, score_problem
from workflows.api.filters import ApplicationFilter
from workflows.api.serializers import (
    ApplicationDetailSerializer,
    ApplicationSerializer,
    RevisionDetailSerializer,
    RevisionDiffSerializer,
    RevisionSerializer,
    SubmitPlanSerializer,
    SubmitQuerySerializer,
    SubmitResponseSerializer,
)
from workflows.models import Application, DeploymentRevision
from workflows.score import ScoreValidationError
from workflows.services import SubmitResult, delete_application, diff_revisions, submit_spec

# The body is a Score document; its structure is validated by the ingest layer, not by a serializer.
SPEC_REQUEST = {media: OpenApiTypes.OBJECT for media in (*YAML_MEDIA_TYPES, "application/json")}
NAME_PARAMETER = OpenApiParameter(
    "name", OpenApiTypes.STR, OpenApiParameter.PATH, description="Application name."
)
SPEC_EXAMPLE = OpenApiExample(
    "A web service with a database",
    request_only=True,
    value={
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "hello"},
        "containers": {"main": {"image": "nginx:1.27", "variables": {"DB_HOST": "${resources.db.host}"}}},
        "resources": {"db": {"type": "postgres"}},
    },
)
_DOCUMENT_FIELDS = ("current_revision__spec", "current_revision__source", "current_revision__extensions")


@extend_schema(tags=["applications"])
@extend_schema_view(
    list=extend_schema(
        summary="List applications", responses={200: ApplicationSerializer, **problems(400, 403)}
    ),
    retrieve=extend_schema(
        summary="Get an application",
        parameters=[NAME_PARAMETER],
        responses={200: ApplicationDetailSerializer, **problems(403, 404)},
    ),
    destroy=extend_schema(
        summary="Delete an application",
        parameters=[NAME_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **problems(403, 404)},
    ),
)
class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet[Application],
):
    """Submit Score specs, list, inspect and delete applications."""

    queryset = Application.objects.none()
    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    parser_classes = SPEC_PARSERS
    filterset_class = ApplicationFilter
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]

    def get_queryset(self) -> QuerySet[Application]:
        queryset = (
            Application.objects.filter(team_filter(self.request.user))
            .select_related("team", "created_by", "current_revision", "current_revision__created_by")
            .annotate(revision_count=Count("revisions", distinct=True))
        )
        if self.action == "list":
            # The list shows revision summaries only: leave the documents in the database.
            queryset = queryset.defer(*_DOCUMENT_FIELDS)
        return queryset

    def get_serializer_class(self) -> type[ApplicationSerializer]:
        return ApplicationDetailSerializer if self.action == "retrieve" else ApplicationSerializer

    @extend_schema(
        summary="Submit a Score spec",
        description=(
            "Validates a Score workload (YAML or JSON) and records it as the application's next deployment "
            "revision. An identical resubmission creates nothing and answers 200 with `created: false`; "
            "`dry_run=true` answers 200 with the plan and stores nothing."
        ),
        request=SPEC_REQUEST,
        examples=[SPEC_EXAMPLE],
        parameters=[
            SubmitQuerySerializer,
            OpenApiParameter(
                "X-Comment", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Revision comment."
            ),
        ],
        responses={
            201: SubmitResponseSerializer,
            200: SubmitResponseSerializer,
            **problems(400, 403, 409, 413, 415),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = SubmitQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        # An empty body parses to {}: hand ingest an empty document so it explains what is missing.
        text = request.data if isinstance(request.data, str) else ""
        try:
            result = submit_spec(
                text=text,
                content_type=request.content_type,
                user=request.user,
                team=options.get("team"),
                comment=options.get("comment") or request.headers.get("X-Comment", ""),
                dry_run=options["dry_run"],
            )
        except ScoreValidationError as exc:
            raise score_problem(exc) from None
        body = self._submission_body(result)
        if not result.created:
            return Response(body, status=status.HTTP_200_OK)
        location = reverse(
            f"{self.basename}-detail", kwargs={"name": result.plan.application}, request=request
        )
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    def _submission_body(self, result: SubmitResult) -> dict[str, Any]:
        application = None
        if result.application is not None:
            # Re-read through the list queryset so the answer matches GET /applications exactly.
            application = ApplicationSerializer(self.get_queryset().get(pk=result.application.pk)).data
        return {
            "created": result.created,
            "dry_run": result.dry_run,
            "plan": SubmitPlanSerializer(result.plan).data,
            "application": application,
            "revision": RevisionSerializer(result.revision).data if result.revision is not None else None,
            "execution": result.execution.pk if result.execution is not None else None,
            "deployment": result.deployment,
        }

    def perform_destroy(self, instance: Application) -> None:
        delete_application(application=instance, user=self.request.user)


_ALIAS = "Deprecated alias of /api/applications; answers carry `Deprecation: true`."


@extend_schema(tags=["specs (deprecated)"])
@extend_schema_view(
    list=extend_schema(deprecated=True, description=_ALIAS),
    retrieve=extend_schema(deprecated=True, description=_ALIAS),
    create=extend_schema(deprecated=True, description=_ALIAS),
    destroy=extend_schema(deprecated=True, description=_ALIAS),
)
class SpecViewSet(ApplicationViewSet):
    """The original's /api/specs endpoints: identical to applications, marked deprecated."""

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Deprecation"] = "true"
        response["Link"] = '</api/applications>; rel="successor-version"'
        return response


REVISION_PARAMETERS = [
    NAME_PARAMETER,
    OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="Revision number."),
]


@extend_schema(tags=["applications"])
@extend_schema_view(
    list=extend_schema(
        summary="List an application's revisions",
        parameters=[NAME_PARAMETER],
        responses={200: RevisionSerializer, **problems(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="Get a revision",
        parameters=REVISION_PARAMETERS,
        responses={200: RevisionDetailSerializer, **problems(403, 404)},
    ),
)
class RevisionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[DeploymentRevision]
):
    """The immutable deployment revisions of one application, newest first."""

    queryset = DeploymentRevision.objects.none()
    lookup_field = "number"
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["number", "created_at"]
    ordering = ["-number"]

    @cached_property
    def application(self) -> Application:
        """The application named in the URL, if the user may see it (404 otherwise)."""
        visible = Application.objects.filter(team_filter(self.request.user))
        return get_object_or_404(visible, name=self.kwargs["name"])

    def get_queryset(self) -> QuerySet[DeploymentRevision]:
        queryset = DeploymentRevision.objects.filter(application=self.application).select_related(
            "application", "created_by"
        )
        if self.action == "list":
            queryset = queryset.defer("spec", "extensions", "source")
        return queryset.order_by("-number")

    def get_serializer_class(self) -> type[RevisionSerializer]:
        return RevisionDetailSerializer if self.action == "retrieve" else RevisionSerializer

    @extend_schema(
        summary="Diff two revisions",
        parameters=[
            *REVISION_PARAMETERS,
            OpenApiParameter(
                "other", OpenApiTypes.INT, OpenApiParameter.PATH, description="Revision to compare with."
            ),
        ],
        responses={200: RevisionDiffSerializer, **problems(403, 404)},
    )
    @action(detail=True, methods=["get"], url_path=r"diff/(?P<other>[0-9]+)")
    def diff(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        old = self.get_object()
        new = get_object_or_404(self.get_queryset(), number=int(kwargs["other"]))
        body = {
            "application": old.application.name,
            "from_revision": old.number,
            "to_revision": new.number,
            **diff_revisions(old, new),
        }
        return Response(RevisionDiffSerializer(body).data)
