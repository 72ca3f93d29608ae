"""The ORM side of `provision` and `deploy` steps: resource lifecycle, outputs, manifests (ResourceOps)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from innominatus.accounts.access import is_platform_admin
from workflows import signals
from workflows.choices import ResourceScope, ResourceState
from workflows.models import (
    ResourceInstance,
    WorkflowExecution,
)
from workflows.providers.config import platform_config
from workflows.providers.registry import current_registry
from workflows.score.manifests import workload_name
from workflows.services import reconcile
from workflows.services.resource_values import (
    app_namespace,
    effective_environment,
    ensure_generated,
    hints_for,
    resolve_params,
    secret_strings,
    split_outputs,
    stored_secrets,
)
from workflows.services.secrets import encrypt_mapping
from workflows.services.tenancy import team_application
from workflows.services.workload_ops import WorkloadOps
from workflows.steps.base import PlannedProvision, ProvisionJob, StepContext

logger = logging.getLogger(__name__)

STARTS: dict[str, str] = {
    ResourceState.REQUESTED: ResourceState.PROVISIONING,
    ResourceState.FAILED: ResourceState.PROVISIONING,
    ResourceState.ACTIVE: ResourceState.UPDATING,
    ResourceState.DEGRADED: ResourceState.UPDATING,
}
WORKING = (ResourceState.PROVISIONING, ResourceState.UPDATING, ResourceState.TERMINATING)


def move(instance: ResourceInstance, target: str, *, reason: str, actor: str, execution_id: str = "") -> bool:
    """Transition a resource (recorded with who and why) and announce it to metrics listeners."""
    before, since = instance.state, instance.updated_at
    moved = instance.transition(target, reason=reason, actor=actor, execution_id=execution_id)
    if moved:
        duration = (timezone.now() - since).total_seconds() if since else None
        signals.resource_transitioned.send(
            sender=ResourceInstance, resource=instance, from_state=before, to_state=target, duration=duration
        )
    return moved


def _workload_service(name: str, team_id: int | None) -> dict[str, Any]:
    """What a `service-port` link needs to know about another workload of the same team, or {} when
    the team has no such application with ports."""
    other = team_application(name, team_id)
    spec = other.current_revision.spec if other is not None and other.current_revision is not None else {}
    ports = (spec.get("service") or {}).get("ports") or {}
    if not ports:
        return {}
    service, namespace = workload_name(spec), app_namespace(name)
    return {
        "name": service,
        "namespace": namespace,
        "host": f"{service}.{namespace}.svc.cluster.local",
        "ports": {port_name: int(port["port"]) for port_name, port in ports.items()},
    }


def provision_parameters(
    found: ResourceInstance,
    *,
    generated: dict[str, Any],
    previous: dict[str, Any],
    declared: dict[str, Any],
    owner_spec: dict[str, Any],
    environment: dict[str, str],
    team_id: int | None,
) -> dict[str, Any]:
    """Everything a provider workflow is offered for `found` (it takes the parameters it declares).
    Deploys and dry runs (workflows/services/forecast.py) both build them here."""
    config = platform_config()
    object_name = (found.metadata or {}).get("object_name") or found.resource_name
    system = {
        # A platform-shared resource belongs to no application: its objects carry its own name.
        "app": found.app_name or object_name,
        "resource": found.resource_name,
        # The original's names for the same inputs, which its provider workflows use.
        "app_name": found.app_name or object_name,
        "resource_name": found.resource_name,
        "resource_type": found.resource_type,
        "resource_class": found.resource_class,
        "resource_id": found.resource_id,
        "namespace": (found.metadata or {}).get("namespace") or app_namespace(found.app_name),
        "object_name": object_name,
        "base_domain": config.base_domain,
        "ingress_class": config.ingress_class,
        "storage_class": config.storage_class,
        "app_service": workload_name(owner_spec),
        "environment": environment,
    }
    if declared.get("workload"):
        system["workload_service"] = _workload_service(str(declared["workload"]), team_id)
    previous_values = {f"previous_{key}": value for key, value in previous.items() if value}
    # Score params may set a generated value (e.g. a database name); platform values always win.
    return {**generated, **previous_values, **declared, **system}


class ExecutionResourceOps(WorkloadOps):
    """Resource and deployment bookkeeping for the steps of one execution."""

    def __init__(self, execution: WorkflowExecution) -> None:
        self.execution = execution
        self.app_name = execution.app_name
        user = execution.triggered_by
        self.actor = getattr(user, "username", "") or f"execution {execution.pk}"

    # -- resources -------------------------------------------------------------------------------

    def _siblings(self) -> dict[str, ResourceInstance]:
        application = self._application()
        bindings = reconcile.live_bindings(application=application, app_name=self.app_name)
        return {name: binding.resource for name, binding in bindings.items()}

    def _instance(self, resource: str, instance: int | None) -> ResourceInstance:
        if instance is not None:
            found = ResourceInstance.objects.filter(pk=instance).first()
        else:
            found = self._siblings().get(resource)
        if found is None:
            raise LookupError(f"application {self.app_name!r} has no resource {resource or instance!r}")
        return found

    def _team_id(self) -> int | None:
        application = self._application()
        return application.team_id if application is not None else None

    def _metadata(self) -> dict[str, Any]:
        revision = self.execution.revision
        if revision is None and self.execution.application_id:
            application = self._application()
            revision = application.current_revision if application else None
        return dict(
            (revision.spec.get("metadata") if revision is not None else None) or {"name": self.app_name}
        )

    def _environment(self) -> dict[str, str]:
        revision = self.execution.revision
        return effective_environment(revision.extensions if revision is not None else None)

    def _release(self, instance: ResourceInstance) -> ProvisionJob | None:
        """Drop this application's use of a shared resource; a job when others still use it."""
        others = list(instance.bindings.exclude(app_name=self.app_name).order_by("id"))
        platform = instance.scope == ResourceScope.PLATFORM
        if not others and not platform:
            return None
        instance.bindings.filter(app_name=self.app_name).delete()
        identity = f"{instance.resource_type}#{instance.resource_id}"
        if platform:
            message = f"{identity} is shared by the platform; released"
        else:
            if instance.app_name == self.app_name:
                heir = others[0]
                ResourceInstance.objects.filter(pk=instance.pk).update(
                    application=heir.application, app_name=heir.app_name
                )
            users = ", ".join(sorted({binding.app_name for binding in others}))
            message = f"{identity} is still used by {users}; released"
        return ProvisionJob(
            instance_id=instance.pk,
            resource=instance.resource_name,
            resource_type=instance.resource_type,
            provider=instance.provider,
            operation="release",
            workflow=None,
            message=message,
        )

    def begin_provision(
        self, ctx: StepContext, *, resource: str, operation: str, instance: int | None, regenerate: list[str]
    ) -> ProvisionJob:
        found = self._instance(resource, instance)
        name = resource or found.resource_name
        registry = current_registry()
        provider = registry.provider_for(found.resource_type)
        capability = provider.capability(found.resource_type)
        unknown = set(regenerate) - set(capability.generate)
        if unknown:
            raise ValueError(f"{found.resource_type} has no generated value(s) {', '.join(sorted(unknown))}")
        if (
            regenerate
            and found.scope == ResourceScope.PLATFORM
            and not is_platform_admin(self.execution.triggered_by)
        ):
            raise ValueError(
                f"{found.resource_type}#{found.resource_id} is shared by the platform; only a platform admin "
                "may regenerate its values"
            )
        move_args = {"actor": self.actor, "execution_id": self.execution.pk}
        base: dict[str, Any] = {
            "instance_id": found.pk,
            "resource": name,
            "resource_type": found.resource_type,
            "provider": provider.name,
            "kind": capability.kind,
        }
        if operation == "delete":
            released = self._release(found)
            if released is not None:
                return released
            if found.state == ResourceState.REQUESTED or capability.kind == "external":
                move(found, ResourceState.TERMINATED, reason="removed before it was provisioned", **move_args)
                found.bindings.all().delete()
                return ProvisionJob(
                    **base,
                    operation="delete",
                    workflow=None,
                    message=f"{name} was never provisioned; removed",
                )
            if found.state in (ResourceState.PROVISIONING, ResourceState.UPDATING):
                move(
                    found, ResourceState.FAILED, reason="interrupted while working; deleting it", **move_args
                )
            if found.state != ResourceState.TERMINATING:
                move(
                    found,
                    ResourceState.TERMINATING,
                    reason=f"deleting with provider {provider.name}",
                    **move_args,
                )
        else:
            if (
                operation == "update"
                and found.state in (ResourceState.REQUESTED, ResourceState.FAILED)
                and not found.outputs
            ):
                operation = "create"
            target = STARTS.get(found.state)
            if found.state == ResourceState.FAILED and operation == "update":
                target = ResourceState.UPDATING
            if target is None and found.state not in WORKING:
                raise ValueError(f"resource {name!r} is {found.state} and cannot be {operation}d")
            if target is not None:
                move(found, target, reason=f"{operation} with provider {provider.name}", **move_args)
        if capability.kind == "external":
            return ProvisionJob(
                **base,
                operation=operation,
                workflow=None,
                message=f"{name} is external: waiting for its owner to report it",
            )
        try:
            route = registry.route(found.resource_type, operation, found.resource_class)
            generated, previous = ensure_generated(found, capability, regenerate)
            parameters, hidden = self._parameters(found, generated, previous, operation)
        except (LookupError, ValueError) as exc:
            # Nothing ran: the resource must not stay in a working state.
            move(found, ResourceState.FAILED, reason=str(exc), **move_args)
            raise
        return ProvisionJob(
            **base,
            operation=operation,
            workflow=route.workflow.definition,
            parameters=parameters,
            secrets=[*secret_strings(found), *hidden],
        )

    def _parameters(
        self, found: ResourceInstance, generated: dict[str, Any], previous: dict[str, Any], operation: str
    ) -> tuple[dict[str, Any], list[str]]:
        hidden: list[str] = []
        declared: dict[str, Any] = {}
        if operation != "delete":
            declared, hidden = resolve_params(found, metadata=self._metadata(), siblings=self._siblings())
        owner_spec = (
            self.execution.revision.spec
            if self.execution.revision is not None
            else {"metadata": {"name": found.app_name}}
        )
        offered = provision_parameters(
            found,
            generated=generated,
            previous=previous,
            declared=declared,
            owner_spec=owner_spec,
            environment=self._environment(),
            team_id=self._team_id(),
        )
        return offered, hidden

    def finish_provision(
        self,
        ctx: StepContext,
        job: ProvisionJob,
        *,
        outputs: dict[str, Any] | None,
        error: str = "",
        render_only: str = "",
    ) -> dict[str, Any]:
        if job.operation == "release":
            return {}
        found = ResourceInstance.objects.get(pk=job.instance_id)
        move_args = {"actor": self.actor, "execution_id": self.execution.pk}
        if found.state == ResourceState.TERMINATED:
            return {}
        if error:
            if found.state in (*WORKING, ResourceState.REQUESTED):
                move(found, ResourceState.FAILED, reason=error, **move_args)
            return {}
        if job.operation == "delete":
            with transaction.atomic():
                ResourceInstance.objects.filter(pk=found.pk).update(secret_outputs="")  # nosec B106 - clears them
                found.bindings.all().delete()
                note = (
                    f"rendered, not applied: {render_only}" if render_only else f"deleted by {job.provider}"
                )
                move(found, ResourceState.TERMINATED, reason=note, **move_args)
            return {}
        if outputs is None:
            return {}
        capability = current_registry().provider_for(found.resource_type).capability(found.resource_type)
        plain, hidden = split_outputs(outputs, capability.secret_outputs)
        stored = {**stored_secrets(found), **hidden}
        metadata = {**(found.metadata or {}), "applied": not render_only, "render_only_reason": render_only}
        found.outputs, found.metadata = plain, metadata
        found.hints = hints_for(found, plain)
        ResourceInstance.objects.filter(pk=found.pk).update(
            outputs=plain,
            metadata=metadata,
            hints=found.hints,
            secret_outputs=encrypt_mapping(stored),
            updated_at=timezone.now(),
        )
        if job.kind == "native":
            note = (
                f"rendered, not applied: {render_only}"
                if render_only
                else f"{job.operation}d by {job.provider}"
            )
            move(found, ResourceState.ACTIVE, reason=note, **move_args)
        return plain

    def await_report(
        self, ctx: StepContext, job: ProvisionJob, *, timeout: float
    ) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = ResourceInstance.objects.get(pk=job.instance_id)
            if found.state in (ResourceState.ACTIVE, ResourceState.FAILED, ResourceState.TERMINATED):
                return found.state, dict(found.outputs or {})
            if time.monotonic() >= deadline:
                move(
                    found,
                    ResourceState.FAILED,
                    reason=f"no report within {timeout:g}s",
                    actor=self.actor,
                    execution_id=self.execution.pk,
                )
                return ResourceState.FAILED, {}
            ctx.sleep(2.0)

    def plan_resources(self, ctx: StepContext, *, operation: str) -> list[PlannedProvision]:
        application = self._application()
        if operation == "delete":
            changes = reconcile.teardown_changes(application=application, app_name=self.app_name)
            waits = reconcile.delete_order(changes)
            order = reconcile.topological_order(waits)
            by_name = {change.name: change for change in changes}
            return [PlannedProvision(name, "delete", by_name[name].instance.pk) for name in order]
        if application is None or application.current_revision is None:
            raise LookupError(f"application {self.app_name!r} has no revision to deploy")
        with transaction.atomic():
            revision = application.current_revision
            changes = reconcile.reconcile_resources(
                application, revision.spec, registry=current_registry(), extensions=revision.extensions
            )
        working = [c for c in changes if c.action in (reconcile.CREATE, reconcile.UPDATE)]
        removed = [c for c in changes if c.action == reconcile.DELETE]
        return [PlannedProvision(c.name, c.action, c.instance.pk) for c in working] + [
            PlannedProvision(c.name, "delete", c.instance.pk) for c in removed
        ]
