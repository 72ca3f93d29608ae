"""The workload half of ResourceOps: what a `deploy` step renders, and the record of what it applied."""

from __future__ import annotations

from typing import Any

from workflows.models import Application, DeploymentRevision, ManifestSet, WorkflowExecution
from workflows.providers.model import UnknownResourceType
from workflows.providers.registry import current_registry
from workflows.redaction import redact_for_app
from workflows.score.manifests import SECRET_MASK
from workflows.services import reconcile
from workflows.services.resource_values import app_namespace, instance_values, secret_strings
from workflows.steps.base import StepContext, WorkloadJob


class WorkloadOps:
    """Deploy-side bookkeeping for the steps of one execution (mixed into ExecutionResourceOps)."""

    execution: WorkflowExecution
    app_name: str

    def _application(self) -> Application | None:
        if not self.execution.application_id:
            return None
        return Application.objects.filter(pk=self.execution.application_id).first()

    def workload(self, ctx: StepContext, *, revision: int | None) -> WorkloadJob:
        application = self._application()
        if application is None:
            raise LookupError(f"application {self.app_name!r} no longer exists")
        chosen: DeploymentRevision | None
        if revision is not None:
            chosen = application.revisions.filter(number=revision).first()
        else:
            chosen = self.execution.revision or application.current_revision
        if chosen is None:
            raise LookupError(f"application {self.app_name!r} has no revision {revision or ''}".rstrip())
        outputs: dict[str, dict[str, Any]] = {}
        secret_keys: dict[str, frozenset[str]] = {}
        hidden: list[str] = []
        registry = current_registry()
        for name, binding in reconcile.live_bindings(application=application).items():
            instance = binding.resource
            outputs[name] = instance_values(instance)
            hidden += secret_strings(instance)
            try:
                capability = registry.provider_for(instance.resource_type).capability(instance.resource_type)
                secret_keys[name] = capability.secret_outputs
            except UnknownResourceType:
                secret_keys[name] = frozenset(
                    k for k, v in (instance.outputs or {}).items() if v == SECRET_MASK
                )
        return WorkloadJob(
            app_name=application.name,
            namespace=app_namespace(application.name),
            spec=dict(chosen.spec),
            outputs=outputs,
            secret_keys=secret_keys,
            revision=chosen.number,
            previous=self._last_applied(application.name)[1],
            secrets=hidden,
        )

    def _last_applied(
        self, app_name: str, manifest_set: int | None = None
    ) -> tuple[str, list[dict[str, Any]]]:
        sets = ManifestSet.objects.filter(app_name=app_name, operation="apply", applied=True)
        found = (
            sets.filter(pk=manifest_set).first()
            if manifest_set
            else sets.order_by("-created_at", "-id").first()
        )
        if found is None:
            return app_namespace(app_name), []
        from workflows.steps.deploy import identity

        return found.namespace, [identity(m, found.namespace) for m in found.manifests]

    def record_manifests(
        self,
        ctx: StepContext,
        job: WorkloadJob | None,
        *,
        manifests: list[dict[str, Any]],
        operation: str,
        applied: bool,
        reason: str = "",
        state: str = "",
    ) -> None:
        application = self._application()
        reason = redact_for_app(reason, app_name=self.app_name, secrets=ctx.secrets)[:5000]
        ManifestSet.objects.create(
            application=application,
            app_name=self.app_name,
            revision=application.revisions.filter(number=job.revision).first()
            if application and job and job.revision
            else None,
            revision_number=job.revision if job else None,
            execution_id=self.execution.pk,
            operation=operation,
            namespace=job.namespace if job else app_namespace(self.app_name),
            manifests=manifests,
            applied=applied,
            reason=reason,
        )
        if application is not None and state:
            Application.set_deploy_state(application.pk, state, reason)

    def deployed_objects(
        self, ctx: StepContext, *, manifest_set: int | None
    ) -> tuple[str, list[dict[str, Any]]]:
        return self._last_applied(self.app_name, manifest_set)
