"""Application use cases: submit a Score spec as a new deployment revision, plan it, delete an application."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from innominatus.accounts.access import is_platform_admin, team_for_write
from innominatus.accounts.models import Team
from innominatus.problems import Conflict, ProblemError
from workflows.models import Application, DeploymentRevision, WorkflowExecution
from workflows.providers.policies import image_allowed, tenancy_policy
from workflows.providers.registry import current_registry
from workflows.score import IngestResult, ScoreValidationError, ingest
from workflows.services.deployments import launch_deploy_with_changes, launch_undeploy
from workflows.services.namespaces import (
    check_not_reserved,
    check_resource_namespaces,
    claim_namespace,
    namespace_name,
)
from workflows.services.previews import plan_action, preview_deploy
from workflows.services.score_workflows import score_workflow_problems
from workflows.services.tenancy import tenancy_problems

COMMENT_MAX_LENGTH = DeploymentRevision._meta.get_field("comment").max_length or 500


class Forbidden(ProblemError):
    """The user may not act on this application or for this team."""

    default_code = "permission_denied"

    def __init__(self, detail: str, **kwargs: Any) -> None:
        super().__init__(detail, status_code=403, **kwargs)


class ResourceAction:
    """What a submission does to one declared resource: compared with the current revision, then, once
    resources are reconciled (dry runs and deploys), what the deploy does (reuse, release)."""

    CREATE = "create"
    REUSE = "reuse"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DELETE = "delete"
    RELEASE = "release"


# The deploy's actions (workflows/services/previews.py plan_action) in the plan's vocabulary.
_DEPLOY_ACTIONS = {"keep": ResourceAction.UNCHANGED}


@dataclass(frozen=True, slots=True)
class PlannedResource:
    """One resource of a plan: its name, type, class, shared id and what will happen to it."""

    name: str
    type: str
    resource_class: str
    resource_id: str | None
    action: str


@dataclass(frozen=True, slots=True)
class SubmitPlan:
    """What a submission would change: resources in dependency order, containers, and whether anything did."""

    application: str
    team: str
    exists: bool
    changed: bool
    current_revision: int | None
    next_revision: int | None
    content_hash: str
    containers: list[str] = field(default_factory=list)
    resources: list[PlannedResource] = field(default_factory=list)
    # The original innominatus's shapes translated on the way in (workflows/score/legacy.py).
    warnings: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The outcome of submit_spec; application and revision are None for a dry run of a new application."""

    plan: SubmitPlan
    created: bool
    dry_run: bool
    application: Application | None = None
    revision: DeploymentRevision | None = None
    # Provisioning and deployment (workflows/services/deployments.py): the launched deploy, or for a
    # dry run the plan of resource actions and the manifest diff against what is deployed.
    execution: WorkflowExecution | None = None
    deployment: dict[str, Any] | None = None


def submit_spec(
    *,
    text: str,
    content_type: str | None,
    user: Any,
    team: str | None = None,
    comment: str = "",
    dry_run: bool = False,
) -> SubmitResult:
    """Validate a Score document and record it as its application's next deployment revision."""
    allowed_images = tenancy_policy().allowed_images
    result = ingest(
        text,
        content_type=content_type,
        max_bytes=settings.SCORE_MAX_BYTES,
        max_depth=settings.INPUT_MAX_DEPTH,
        max_resources=settings.SCORE_MAX_RESOURCES,
        max_containers=settings.SCORE_MAX_CONTAINERS,
        known_types=current_registry().known_types(),
        image_allowed=functools.partial(image_allowed, patterns=allowed_images),
    )
    # The original's Score `workflows:` section runs as part of the deploy: refuse it now if it cannot.
    workflow_problems = score_workflow_problems(result.extensions)
    if workflow_problems:
        raise ScoreValidationError(workflow_problems)
    name = str(result.spec["metadata"]["name"])
    comment = comment.strip()[:COMMENT_MAX_LENGTH]
    with transaction.atomic():
        application = _locked_application(name)
        existed = application is not None
        if application is None:
            owner = team_for_write(user, team)
            _check_tenancy(result, owner)
            namespace = namespace_name(owner.name, name)
            # Neither the name (which people read as a namespace) nor the namespace may be reserved.
            check_not_reserved(name, "metadata.name")
            check_not_reserved(namespace, "metadata.name")
            # A dry run creates the application too, inside this transaction, and rolls it back: so it
            # claims the namespace, finds shared resources and checks everything exactly as the deploy.
            application, _ = Application.objects.get_or_create(
                name=name, defaults={"team": owner, "created_by": user}
            )
            # A concurrent submitter may have created it first: take the lock on whichever row won.
            application = _locked_application(name)
            assert application is not None
        _check_may_submit(user, application, team)
        _check_tenancy(result, application.team)
        claim = claim_namespace(application=application, path="metadata.name")
        check_resource_namespaces(result.spec, application.team.name)
        current = _current_revision(application)
        plan = _plan(name, application.team.name, result, application, current, existed=existed)
        if dry_run:
            try:
                # The preview reconciles resources inside this transaction, which is rolled back.
                preview = preview_deploy(
                    application=application, result=result, app_name=name, namespace=claim.name
                )
            finally:
                transaction.set_rollback(True)
            return SubmitResult(
                plan=_with_actions(plan, preview["resources"]),
                created=False,
                dry_run=True,
                application=application if existed else None,
                revision=current,
                deployment=preview,
            )
        if not plan.changed:
            return SubmitResult(
                plan=plan, created=False, dry_run=False, application=application, revision=current
            )
        assert plan.next_revision is not None
        revision = DeploymentRevision.objects.create(
            application=application,
            number=plan.next_revision,
            spec=result.spec,
            extensions=result.extensions,
            source=text,
            content_hash=result.sha256,
            comment=comment,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        application.current_revision = revision
        application.save(update_fields=["current_revision", "updated_at"])
        execution, changes = launch_deploy_with_changes(application=application, revision=revision, user=user)
        plan = _with_actions(plan, [{"name": c.name, "action": plan_action(c, name)} for c in changes])
    return SubmitResult(
        plan=plan,
        created=True,
        dry_run=False,
        application=application,
        revision=revision,
        execution=execution,
    )


def delete_application(*, application: Application, user: Any) -> None:
    """Delete an application and its revisions; execution and resource history stays, detached."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().filter(pk=application.pk).first()
        if locked is None:
            return
        _check_may_submit(user, locked, None)
        # The undeploy runs after commit; its steps name the resource instances, not the application.
        launch_undeploy(application=locked, user=user)
        locked.delete()


def _check_tenancy(result: IngestResult, team: Team) -> None:
    problems = tenancy_problems(result.spec, team=team)
    if problems:
        raise ScoreValidationError(problems)


def _locked_application(name: str) -> Application | None:
    # Locking the application row serialises submitters, so revision numbers never collide.
    return Application.objects.select_for_update().select_related("team").filter(name=name).first()


def _current_revision(application: Application) -> DeploymentRevision | None:
    if application.current_revision_id is None:
        return None
    return DeploymentRevision.objects.filter(pk=application.current_revision_id).first()


def _team_error(exc: Exception) -> dict[str, str]:
    return {"path": "team", "pointer": "", "message": str(exc), "code": "invalid_team"}


def _check_may_submit(user: Any, application: Application, requested_team: str | None) -> None:
    if requested_team and requested_team != application.team.name:
        raise Conflict(
            f"application {application.name!r} belongs to team {application.team.name!r}, "
            f"not {requested_team!r}",
            errors=[_team_error(ValueError("the owning team cannot be changed by a submission"))],
        )
    if is_platform_admin(user):
        return
    if not Team.objects.filter(pk=application.team_id, members=user).exists():
        raise Forbidden(f"application {application.name!r} belongs to another team")


def _plan(
    name: str,
    team: str,
    result: IngestResult,
    application: Application | None,
    current: DeploymentRevision | None,
    *,
    existed: bool,
) -> SubmitPlan:
    """Compare an ingested spec with the current revision, resource by resource."""
    old: Mapping[str, Any] = (current.spec.get("resources") or {}) if current is not None else {}
    new: Mapping[str, Any] = result.spec.get("resources") or {}
    order = list(result.resource_order) + sorted(set(new) - set(result.resource_order))
    resources = [_planned(res, new[res], _action(old.get(res), new[res])) for res in order]
    resources += [_planned(res, old[res], ResourceAction.DELETE) for res in sorted(set(old) - set(new))]
    changed = current is None or current.content_hash != result.sha256
    next_number = _next_number(application) if changed else None
    return SubmitPlan(
        application=name,
        team=team,
        exists=existed,
        changed=changed,
        current_revision=current.number if current is not None else None,
        next_revision=next_number,
        content_hash=result.sha256,
        containers=list((result.spec.get("containers") or {}).keys()),
        resources=resources,
        warnings=list(result.warnings),
    )


def _with_actions(plan: SubmitPlan, rows: list[dict[str, Any]]) -> SubmitPlan:
    """The plan with each resource's action replaced by what the deploy does to it (reconciled)."""
    done = {str(row["name"]): str(row["action"]) for row in rows}
    resources = [
        replace(item, action=_DEPLOY_ACTIONS.get(done[item.name], done[item.name]))
        if item.name in done
        else item
        for item in plan.resources
    ]
    return replace(plan, resources=resources)


def _next_number(application: Application | None) -> int:
    if application is None:
        return 1
    # The current revision may be a rollback to an older one: count from the highest number.
    highest = application.revisions.aggregate(highest=Max("number"))["highest"] or 0
    return int(highest) + 1


def _action(old: Any, new: Any) -> str:
    if old is None:
        return ResourceAction.CREATE
    return ResourceAction.UNCHANGED if old == new else ResourceAction.UPDATE


def _planned(name: str, declared: Mapping[str, Any], action: str) -> PlannedResource:
    return PlannedResource(
        name=name,
        type=str(declared.get("type", "")),
        resource_class=str(declared.get("class") or "default"),
        resource_id=declared.get("id"),
        action=action,
    )
