"""Deploy use cases: deploy a revision, undeploy an application, roll back, and preview a deploy.

A deploy is an ordinary execution of a generated workflow: one `provision` step per resource to
create or update (dependencies follow resource-to-resource references; independent resources run
in parallel), then `deploy`, then one `provision` step per removed resource. An undeploy removes
the workload first, then each resource in reverse dependency order, then the namespace.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max

from innominatus.accounts.access import is_platform_admin
from innominatus.accounts.models import Team
from innominatus.problems import ProblemError
from workflows.choices import DeployState, ExecutionStatus
from workflows.engine.loader import load_workflow
from workflows.engine.model import WorkflowDefinition
from workflows.models import Application, DeploymentRevision, ManifestSet, WorkflowExecution
from workflows.providers.registry import current_registry
from workflows.redaction import redact_for_app
from workflows.score import topological_order
from workflows.services import reconcile
from workflows.services.executions import launch_execution
from workflows.services.resource_values import app_namespace
from workflows.services.score_workflows import score_workflow_steps, score_workflow_variables
from workflows.steps.registry import known_step_types

logger = logging.getLogger(__name__)

DEPLOY_WORKFLOW = "deploy-app"
UNDEPLOY_WORKFLOW = "undeploy-app"


class RollbackError(ProblemError):
    """The rollback target does not exist or the user may not deploy this application."""

    default_code = "invalid_rollback"


def _provision(
    prefix: str, change: reconcile.ResourceChange, operation: str, after: list[str]
) -> dict[str, Any]:
    return {
        "name": f"{prefix}-{change.name}",
        "type": "provision",
        "parallel": True,
        "dependsOn": after,
        "config": {"resource": change.name, "operation": operation, "instance": change.instance.pk},
    }


def _deletions(changes: list[reconcile.ResourceChange], first: list[str]) -> list[dict[str, Any]]:
    """Deprovision steps: after `first`, and after every removed resource that refers to them."""
    waits = reconcile.delete_order(changes)
    by_name = {change.name: change for change in changes if change.action == reconcile.DELETE}
    return [
        _provision(
            "deprovision",
            by_name[name],
            "delete",
            [*first, *(f"deprovision-{w}" for w in sorted(waits[name]))],
        )
        for name in topological_order(waits)
    ]


def deploy_definition(
    app_name: str,
    revision: int,
    changes: list[reconcile.ResourceChange],
    extensions: Mapping[str, Any] | None = None,
) -> WorkflowDefinition:
    """The workflow that deploys `revision`: provision, deploy, then remove what the spec dropped."""
    working = [c for c in changes if c.action in (reconcile.CREATE, reconcile.UPDATE)]
    names = {c.name for c in working}
    steps = [
        _provision("provision", c, c.action, [f"provision-{d}" for d in sorted(c.depends_on & names)])
        for c in working
    ]
    steps.append(
        {
            "name": "deploy",
            "type": "deploy",
            "dependsOn": [step["name"] for step in steps],
            "config": {"revision": revision},
        }
    )
    # The spec's `workflows:` section (the original's extension) runs after provisioning and deploy.
    steps += score_workflow_steps(extensions or {}, after="deploy")
    steps += _deletions(changes, ["deploy"])
    document = {
        # One deploy or undeploy of an application at a time; later ones wait their turn.
        "metadata": {
            "name": DEPLOY_WORKFLOW,
            "description": f"Deploy revision {revision} of {app_name}",
            "concurrency": "application",
        },
        "steps": steps,
        "variables": score_workflow_variables(extensions or {}),
        "outputs": {"namespace": "{{ steps.deploy.outputs.namespace }}"},
    }
    return load_workflow(document, known_step_types=known_step_types())


def undeploy_definition(
    app_name: str, namespace: str, changes: list[reconcile.ResourceChange]
) -> WorkflowDefinition:
    """The workflow that removes an application: workload, resources (reverse order), namespace."""
    steps: list[dict[str, Any]] = [
        {"name": "undeploy-workload", "type": "deploy", "config": {"operation": "delete"}}
    ]
    deletions = _deletions(changes, ["undeploy-workload"])
    steps += deletions
    steps.append(
        {
            "name": "remove-namespace",
            "type": "kubernetes",
            "dependsOn": ["undeploy-workload", *(step["name"] for step in deletions)],
            "config": {
                "operation": "delete",
                "manifests": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}],
            },
        }
    )
    metadata = {"name": UNDEPLOY_WORKFLOW, "description": f"Remove {app_name}", "concurrency": "application"}
    document = {"metadata": metadata, "steps": steps}
    return load_workflow(document, known_step_types=known_step_types())


def launch_deploy(
    *, application: Application, revision: DeploymentRevision, user: Any, trigger: str = "spec"
) -> WorkflowExecution:
    """Reconcile the application's resources with `revision` and start the deploy execution."""
    return launch_deploy_with_changes(application=application, revision=revision, user=user, trigger=trigger)[
        0
    ]


def launch_deploy_with_changes(
    *, application: Application, revision: DeploymentRevision, user: Any, trigger: str = "spec"
) -> tuple[WorkflowExecution, list[reconcile.ResourceChange]]:
    """launch_deploy, also returning what it does to each resource (for the submission's plan)."""
    registry = current_registry()
    with transaction.atomic():
        changes = reconcile.reconcile_resources(
            application, revision.spec, registry=registry, extensions=revision.extensions
        )
        definition = deploy_definition(application.name, revision.number, changes, revision.extensions)
        Application.set_deploy_state(
            application.pk, DeployState.DEPLOYING, f"deploying revision {revision.number}"
        )
        execution = launch_execution(
            definition=definition,
            app_name=application.name,
            user=user,
            application=application,
            revision=revision,
            trigger=trigger,
        )
    logger.info(
        "deploy launched",
        extra={"workflow_id": execution.pk, "app_name": application.name, "revision": revision.number},
    )
    return execution, changes


def launch_undeploy(*, application: Application, user: Any) -> WorkflowExecution | None:
    """Start removing everything the application owns; None when nothing was ever provisioned or applied."""
    changes = reconcile.teardown_changes(application=application)
    deployed = ManifestSet.objects.filter(app_name=application.name, operation="apply").exists()
    if not changes and not deployed:
        return None
    definition = undeploy_definition(application.name, app_namespace(application.name), changes)
    Application.set_deploy_state(application.pk, DeployState.UNDEPLOYING)
    return launch_execution(
        definition=definition,
        app_name=application.name,
        user=user,
        application=application,
        team=application.team,
        trigger="delete",
    )


def on_execution_finished(sender: Any, *, execution: WorkflowExecution, status: str, **kwargs: Any) -> None:
    """A deploy or undeploy that ended without success leaves the application saying so (never "deploying")."""
    if (
        execution.workflow_name not in (DEPLOY_WORKFLOW, UNDEPLOY_WORKFLOW)
        or status == ExecutionStatus.COMPLETED
    ):
        return
    if execution.application_id is None:
        return
    message = f"{execution.workflow_name} {execution.pk} {status}: {execution.error_message}".strip()
    Application.set_deploy_state(
        execution.application_id,
        DeployState.FAILED,
        redact_for_app(message, app_name=execution.app_name)[:5000],
        only_from=(DeployState.DEPLOYING, DeployState.UNDEPLOYING, DeployState.WAITING_FOR_APPROVAL),
    )


def _check_may_deploy(user: Any, application: Application) -> None:
    if is_platform_admin(user) or Team.objects.filter(pk=application.team_id, members=user).exists():
        return
    raise RollbackError(f"application {application.name!r} belongs to another team", status_code=403)


def rollback_application(
    *, application: Application, number: int, user: Any
) -> tuple[DeploymentRevision, WorkflowExecution]:
    """Deploy revision `number` again, as a new revision (history is never rewritten)."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().select_related("team").get(pk=application.pk)
        _check_may_deploy(user, locked)
        target = locked.revisions.filter(number=number).first()
        if target is None:
            raise RollbackError(
                f"application {locked.name!r} has no revision {number}",
                status_code=404,
                errors=[{"path": "revision", "message": f"no revision {number}", "code": "not_found"}],
            )
        highest = locked.revisions.aggregate(highest=Max("number"))["highest"] or 0
        revision = DeploymentRevision.objects.create(
            application=locked,
            number=int(highest) + 1,
            spec=target.spec,
            extensions=target.extensions,
            source=target.source,
            content_hash=target.content_hash,
            comment=f"rollback to revision {number}",
            rolled_back_from=number,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        locked.current_revision = revision
        locked.save(update_fields=["current_revision", "updated_at"])
        execution = launch_deploy(application=locked, revision=revision, user=user, trigger="rollback")
    return revision, execution
