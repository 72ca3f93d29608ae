"""Serializers of the workflows API: read models for applications, executions, steps, logs and resources."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workflows.choices import (
    DeployState,
    ExecutionOutcome,
    ExecutionStatus,
    LogStream,
    ResourceState,
)
from workflows.models import (
    Application,
    DeploymentRevision,
    ResourceInstance,
    ResourceStateTransition,
    StepExecution,
    WorkflowExecution,
)
from workflows.services import progress


class FieldProblemSerializer(serializers.Serializer):
    """One problem of an RFC 7807 response: where it is and what is wrong."""

    path = serializers.CharField(help_text="Dotted path, e.g. containers.main.image.")
    pointer = serializers.CharField(required=False, help_text="RFC 6901 JSON pointer.")
    message = serializers.CharField()
    code = serializers.CharField()
    line = serializers.IntegerField(required=False, allow_null=True, help_text="Source line (YAML input).")


class ProblemSerializer(serializers.Serializer):
    """An RFC 7807 problem+json error body."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    # The metaclass turns this into a field; mypy only sees it shadow Serializer.errors.
    errors = FieldProblemSerializer(many=True, required=False)  # type: ignore[assignment]


class RevisionSerializer(serializers.ModelSerializer[DeploymentRevision]):
    """A deployment revision without its documents."""

    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = DeploymentRevision
        fields = ["number", "content_hash", "comment", "rolled_back_from", "created_by", "created_at"]
        read_only_fields = fields


class RevisionDetailSerializer(RevisionSerializer):
    """A deployment revision with its canonical spec, extensions and the document as submitted."""

    class Meta(RevisionSerializer.Meta):
        fields = [*RevisionSerializer.Meta.fields, "spec", "extensions", "source"]
        read_only_fields = fields


class ApplicationSerializer(serializers.ModelSerializer[Application]):
    """An application with a summary of its current revision."""

    team = serializers.CharField(source="team.name", read_only=True)
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    current_revision = RevisionSerializer(read_only=True, allow_null=True)
    revision_count = serializers.IntegerField(read_only=True)
    deploy_state = serializers.ChoiceField(
        choices=DeployState.choices,
        read_only=True,
        help_text="What the last deploy achieved: `rendered` means rendered and stored, not applied "
        "(no cluster configured); `deployed` means applied to the cluster.",
    )
    deploy_state_label = serializers.CharField(read_only=True, help_text="deploy_state in words.")
    applied = serializers.BooleanField(
        source="is_applied", read_only=True, help_text="Whether the last deploy reached the cluster."
    )

    class Meta:
        model = Application
        fields = [
            "name",
            "team",
            "created_by",
            "current_revision",
            "revision_count",
            "deploy_state",
            "deploy_state_label",
            "applied",
            "deploy_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ApplicationDetailSerializer(ApplicationSerializer):
    """An application with the spec and extensions of its current revision."""

    spec = serializers.JSONField(
        source="current_revision.spec", read_only=True, allow_null=True, default=None
    )
    extensions = serializers.JSONField(
        source="current_revision.extensions", read_only=True, allow_null=True, default=None
    )

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "spec", "extensions"]
        read_only_fields = fields


class PlannedResourceSerializer(serializers.Serializer):
    """One resource of a submission plan."""

    name = serializers.CharField()
    type = serializers.CharField()
    resource_class = serializers.CharField()
    id = serializers.CharField(source="resource_id", allow_null=True)
    action = serializers.ChoiceField(
        choices=["create", "reuse", "update", "unchanged", "delete", "release"],
        help_text="What the deploy does: create; reuse (a shared resource that exists already); update; "
        "unchanged; delete; release (a shared resource that others still use).",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # `class` is a Python keyword, so the field is declared under another name and renamed here.
        fields = super().get_fields()
        renamed: dict[str, serializers.Field] = {}
        for name, field in fields.items():
            renamed["class" if name == "resource_class" else name] = field
        renamed["class"].source = "resource_class"
        return renamed


class SubmitPlanSerializer(serializers.Serializer):
    """What a submission changes, resource by resource, in dependency order."""

    application = serializers.CharField()
    team = serializers.CharField()
    exists = serializers.BooleanField(help_text="Whether the application already exists.")
    changed = serializers.BooleanField(help_text="Whether the spec differs from the current revision.")
    current_revision = serializers.IntegerField(allow_null=True)
    next_revision = serializers.IntegerField(allow_null=True, help_text="The revision a submission creates.")
    content_hash = serializers.CharField()
    containers = serializers.ListField(child=serializers.CharField())
    resources = PlannedResourceSerializer(many=True)
    warnings = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        required=False,
        help_text="Shapes of the original innominatus that were translated ({pointer, code, message}).",
    )


class SubmitResponseSerializer(serializers.Serializer):
    """The answer to a spec submission: the plan, and the application and revision it produced."""

    created = serializers.BooleanField(help_text="False when the spec equals the current revision.")
    dry_run = serializers.BooleanField()
    plan = SubmitPlanSerializer()
    application = ApplicationSerializer(allow_null=True)
    revision = RevisionSerializer(allow_null=True)
    execution = serializers.CharField(
        allow_null=True, help_text="The deploy execution a new revision started."
    )
    deployment = serializers.JSONField(
        allow_null=True, help_text="Dry run: resource actions and the manifest diff against what is deployed."
    )


class SubmitQuerySerializer(serializers.Serializer):
    """Query parameters of a spec submission."""

    dry_run = serializers.BooleanField(required=False, default=False, help_text="Validate and plan only.")
    team = serializers.SlugField(
        required=False,
        max_length=100,
        help_text="Owning team of a new application (required for users in several teams).",
    )
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="Revision comment (or header X-Comment)."
    )


class DiffChangeSerializer(serializers.Serializer):
    """One changed leaf between two revisions."""

    path = serializers.CharField()
    pointer = serializers.CharField()
    op = serializers.ChoiceField(choices=["added", "removed", "changed"])
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class RevisionDiffSerializer(serializers.Serializer):
    """The difference between two revisions of an application."""

    application = serializers.CharField()
    from_revision = serializers.IntegerField()
    to_revision = serializers.IntegerField()
    unified = serializers.CharField(help_text="Unified diff of the canonical YAML documents.")
    changes = DiffChangeSerializer(many=True)


class StepSerializer(serializers.ModelSerializer[StepExecution]):
    """A step of an execution: status, timing, attempts and outputs."""

    type = serializers.CharField(source="step_type", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = StepExecution
        fields = [
            "id",
            "name",
            "type",
            "position",
            "status",
            "depends_on",
            "attempt",
            "max_attempts",
            "next_attempt_at",
            "created_at",
            "started_at",
            "completed_at",
            "duration_seconds",
            "error_message",
            "skip_reason",
            "outputs",
            "decided_at",
            "decision_comment",
        ]
        read_only_fields = fields


class ExecutionSerializer(serializers.ModelSerializer[WorkflowExecution]):
    """A workflow execution without its steps."""

    triggered_by = serializers.CharField(
        source="triggered_by.username", read_only=True, allow_null=True, default=None
    )
    revision = serializers.IntegerField(source="revision_number", read_only=True, allow_null=True)
    retry_of = serializers.CharField(
        source="parent_id", read_only=True, allow_null=True, help_text="The execution this one retries."
    )
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    outcome = serializers.ChoiceField(
        choices=ExecutionOutcome.choices,
        read_only=True,
        help_text="What the run achieved: `rendered_only` when it completed without applying anything "
        "(no cluster configured), `applied` when it changed the cluster, `completed` when it touched none.",
    )
    outcome_label = serializers.CharField(read_only=True, help_text="outcome in words.")
    steps_total = serializers.IntegerField(read_only=True)
    steps_finished = serializers.IntegerField(read_only=True)

    def to_representation(self, instance: WorkflowExecution) -> dict[str, Any]:
        if not hasattr(instance, "steps_total"):
            # A single execution fresh from an action (cancel, retry, launch) has no list annotations.
            progress.decorate([instance])
        return super().to_representation(instance)

    class Meta:
        model = WorkflowExecution
        fields = [
            "id",
            "app_name",
            "workflow_name",
            "status",
            "outcome",
            "outcome_label",
            "trigger",
            "triggered_by",
            "revision",
            "retry_of",
            "error_message",
            "created_at",
            "started_at",
            "completed_at",
            "duration_seconds",
            "steps_total",
            "steps_finished",
        ]
        read_only_fields = fields


class ExecutionDetailSerializer(ExecutionSerializer):
    """A workflow execution with its parameters, outputs and steps."""

    steps = StepSerializer(many=True, read_only=True)

    class Meta(ExecutionSerializer.Meta):
        fields = [*ExecutionSerializer.Meta.fields, "parameters", "outputs", "deadline", "steps"]
        read_only_fields = fields


class LogQuerySerializer(serializers.Serializer):
    """Query parameters of a log tail."""

    step = serializers.CharField(required=False, help_text="Only lines of the step with this name.")
    after = serializers.IntegerField(
        required=False, min_value=0, default=0, help_text="Lines with a larger id."
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10_000, default=1000)


class LogLineSerializer(serializers.Serializer):
    """One log line."""

    id = serializers.IntegerField()
    seq = serializers.IntegerField()
    step = serializers.CharField(allow_null=True)
    stream = serializers.ChoiceField(choices=LogStream.choices)
    level = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()


class LogPageSerializer(serializers.Serializer):
    """A slice of an execution's log, for incremental tailing with `after=next_after`."""

    lines = LogLineSerializer(many=True)
    next_after = serializers.IntegerField(help_text="Pass as `after` to get the following lines.")
    complete = serializers.BooleanField(help_text="The execution has ended and every line was returned.")


class TransitionSerializer(serializers.ModelSerializer[ResourceStateTransition]):
    """One recorded state change of a resource."""

    class Meta:
        model = ResourceStateTransition
        fields = ["id", "from_state", "to_state", "reason", "actor", "execution_id", "created_at"]
        read_only_fields = fields


class ResourceSerializer(serializers.ModelSerializer[ResourceInstance]):
    """A resource instance; secret outputs are never part of it."""

    reference_url = serializers.CharField(
        read_only=True, help_text="Link to the resource in its provider's console; empty when there is none."
    )
    applied = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Whether its provider applied it: false when only rendered (no cluster configured), "
        "null before it ran or when someone outside provisions it.",
    )
    display_state = serializers.CharField(
        read_only=True,
        help_text="The state to show: `rendered` when the lifecycle state is active (or updating, "
        "degraded) but nothing was applied; otherwise the state.",
    )
    state_label = serializers.CharField(read_only=True, help_text="display_state in words.")

    class Meta:
        model = ResourceInstance
        fields = [
            "id",
            "app_name",
            "resource_name",
            "resource_type",
            "resource_class",
            "resource_id",
            "scope",
            "state",
            "display_state",
            "state_label",
            "applied",
            "kind",
            "provider",
            "params",
            "metadata",
            "outputs",
            "hints",
            "reference_url",
            "error_message",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ResourceDetailSerializer(ResourceSerializer):
    """A resource instance with its state history."""

    transitions = TransitionSerializer(many=True, read_only=True)

    class Meta(ResourceSerializer.Meta):
        fields = [*ResourceSerializer.Meta.fields, "transitions"]
        read_only_fields = fields


def _counts(choices: list[tuple[str, str]]) -> dict[str, serializers.IntegerField]:
    return {value: serializers.IntegerField() for value, _ in choices}


ExecutionCountsSerializer: Any = type(
    "ExecutionCountsSerializer", (serializers.Serializer,), _counts(ExecutionStatus.choices)
)
ResourceCountsSerializer: Any = type(
    "ResourceCountsSerializer", (serializers.Serializer,), _counts(ResourceState.choices)
)


class StatsSerializer(serializers.Serializer):
    """Counts across what the user may see."""

    applications = serializers.IntegerField()
    executions = serializers.IntegerField()
    executions_by_status = ExecutionCountsSerializer()
    resources = serializers.IntegerField()
    resources_by_state = ResourceCountsSerializer()
    steps_running = serializers.IntegerField()
    steps_waiting = serializers.IntegerField()
