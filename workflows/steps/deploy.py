"""The `deploy` step: render the application's Score workload into Kubernetes objects and apply them.

Configuration:

- `operation`: `apply` (default) or `delete` (remove what the last deploy applied, namespace kept).
- `revision`: the revision number to deploy (default: the execution's revision, else the current one).
- `provision: true` (apply) / `deprovision: true` (delete): also create, update or delete the
  application's resources first (apply) or afterwards (delete), in dependency order — what the
  `deploy-app` and `undeploy-app` golden paths use; generated deploy workflows have a
  `provision` step per resource instead.
- `manifest_set`: for delete, which stored manifest set to remove (default: the latest applied).
- `delete_namespace: true` (delete): remove the application's namespace last.
- `wait`, `wait_timeout`, `poll_interval`, `kubeconfig`: as for the `kubernetes` step.

Objects are validated against the Kubernetes schemas, stored (Secret values masked) so the API can
show what was applied, and applied server-side; objects a previous deploy applied that are no
longer rendered are deleted. With no cluster configured the step still renders, validates and
stores everything and the application shows "rendered, not applied" with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from workflows.score.manifests import RenderError, WorkloadInput, mask_secrets, render_workload
from workflows.steps.base import Step, StepContext, StepResult, WorkloadJob, redacting_log
from workflows.steps.kubernetes import KubernetesStep
from workflows.steps.provision import ProvisionStep

OPERATIONS = ("apply", "delete")
PASSED_THROUGH = ("wait", "wait_timeout", "poll_interval", "kubeconfig", "kubernetes_version")
# Application deploy states (workflows.choices.DeployState; steps import no models).
DEPLOYED, RENDERED, FAILED, UNDEPLOYED = "deployed", "rendered", "failed", "undeployed"


def identity(manifest: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """The part of a manifest needed to find or delete the object."""
    metadata = manifest.get("metadata") or {}
    wanted: dict[str, Any] = {"name": metadata.get("name")}
    if manifest.get("kind") != "Namespace":
        wanted["namespace"] = metadata.get("namespace") or namespace
    return {"apiVersion": manifest.get("apiVersion"), "kind": manifest.get("kind"), "metadata": wanted}


def _key(ref: Mapping[str, Any]) -> tuple[Any, ...]:
    metadata = ref.get("metadata") or {}
    return (ref.get("apiVersion"), ref.get("kind"), metadata.get("namespace"), metadata.get("name"))


class DeployStep(Step):
    """Renders, validates, stores and applies an application's workload (or removes it)."""

    type_name = "deploy"
    touches_cluster = True
    uses_resources = True

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        operation = config.get("operation", "apply")
        if operation not in OPERATIONS and not (isinstance(operation, str) and "{{" in operation):
            return [f"config.operation must be one of {', '.join(OPERATIONS)}, not {operation!r}"]
        return []

    def _kubernetes(self, ctx: StepContext, config: dict[str, Any], log: Any) -> StepResult:
        passed = {key: ctx.config[key] for key in PASSED_THROUGH if key in ctx.config}
        sub = StepContext(
            execution_id=ctx.execution_id,
            app_name=ctx.app_name,
            step_name=ctx.step_name,
            step_type="kubernetes",
            config={**passed, **config},
            workdir=ctx.workdir,
            timeout=ctx.remaining(),
            log=log,
            check_stop=ctx.check_stop,
            secrets=ctx.secrets,
            owner=ctx.owner,
        )
        return KubernetesStep().run(sub)

    def _provision_all(self, ctx: StepContext, operation: str) -> str:
        """Run every planned provision inline; the first failure's message, or ''."""
        ops = ctx.resource_ops
        assert ops is not None
        for planned in ops.plan_resources(ctx, operation=operation):
            config = {
                "resource": planned.resource,
                "operation": planned.operation,
                "instance": planned.instance,
            }
            result = ProvisionStep().run(replace(ctx, config=config, step_type="provision"))
            if result.status != "completed":
                return result.error
        return ""

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        if ctx.resource_ops is None:
            return StepResult.fail("deploy steps run only inside innominatus executions")
        if ctx.config.get("operation", "apply") == "delete":
            return self._undeploy(ctx)
        if ctx.config.get("provision"):
            error = self._provision_all(ctx, "apply")
            if error:
                return StepResult.fail(f"resources could not be provisioned: {error}")
        revision = ctx.config.get("revision")
        try:
            number = int(revision) if isinstance(revision, int | str) and revision != "" else None
            job = ctx.resource_ops.workload(ctx, revision=number)
        except (LookupError, ValueError) as exc:
            return StepResult.fail(str(exc))
        return self._deploy(ctx, job)

    def _deploy(self, ctx: StepContext, job: WorkloadJob) -> StepResult:
        ops = ctx.resource_ops
        assert ops is not None
        log = redacting_log(ctx.log, [*ctx.secrets, *job.secrets])
        try:
            rendered = render_workload(
                WorkloadInput(
                    spec=job.spec,
                    namespace=job.namespace,
                    outputs=job.outputs,
                    secret_keys=job.secret_keys,
                    revision=job.revision,
                )
            )
        except RenderError as exc:
            message = f"workload cannot be rendered: {exc}"
            log(message, "system", "error")
            ops.record_manifests(
                ctx, job, manifests=[], operation="apply", applied=False, reason=message, state=FAILED
            )
            return StepResult.fail(message)
        log(f"rendered {len(rendered.manifests)} objects for namespace {job.namespace}", "system")
        masked = rendered.masked()
        result = self._kubernetes(
            ctx, {"operation": "apply", "manifests": rendered.manifests, "namespace": job.namespace}, log
        )
        applied = bool(result.outputs.get("applied")) and result.status == "completed"
        if result.status != "completed":
            ops.record_manifests(
                ctx,
                job,
                manifests=masked,
                operation="apply",
                applied=False,
                reason=result.error,
                state=FAILED,
            )
            return StepResult.fail(result.error, namespace=job.namespace)
        if not applied:
            reason = str(result.outputs.get("reason") or "render-only mode")
            ops.record_manifests(
                ctx, job, manifests=masked, operation="apply", applied=False, reason=reason, state=RENDERED
            )
            return StepResult.ok(
                applied=False, render_only=True, reason=reason, namespace=job.namespace, objects=len(masked)
            )
        current = {_key(identity(m, job.namespace)) for m in rendered.manifests}
        stale = [ref for ref in job.previous if _key(ref) not in current and ref.get("kind") != "Namespace"]
        if stale:
            log(
                f"removing {len(stale)} object(s) the previous deploy applied and this one does not", "system"
            )
            pruned = self._kubernetes(ctx, {"operation": "delete", "manifests": stale}, log)
            if pruned.status != "completed":
                log(f"could not remove stale objects: {pruned.error}", "system", "warning")
        ops.record_manifests(ctx, job, manifests=masked, operation="apply", applied=True, state=DEPLOYED)
        return StepResult.ok(
            applied=True,
            namespace=job.namespace,
            revision=job.revision,
            objects=result.outputs.get("objects", []),
            rollouts=result.outputs.get("rollouts", []),
        )

    def _undeploy(self, ctx: StepContext) -> StepResult:
        ops = ctx.resource_ops
        assert ops is not None
        manifest_set = ctx.config.get("manifest_set")
        namespace, objects = ops.deployed_objects(
            ctx, manifest_set=int(manifest_set) if manifest_set else None
        )
        workload = [ref for ref in objects if ref.get("kind") != "Namespace"]
        applied, reason = True, ""
        if workload:
            result = self._kubernetes(ctx, {"operation": "delete", "manifests": workload}, ctx.log)
            if result.status != "completed":
                ops.record_manifests(
                    ctx,
                    None,
                    manifests=[],
                    operation="delete",
                    applied=False,
                    reason=result.error,
                    state=FAILED,
                )
                return StepResult.fail(result.error)
            applied, reason = bool(result.outputs.get("applied")), str(result.outputs.get("reason") or "")
        else:
            ctx.log("no applied workload objects are recorded; nothing to remove", "system")
        if ctx.config.get("deprovision"):
            error = self._provision_all(ctx, "delete")
            if error:
                return StepResult.fail(f"resources could not be removed: {error}")
        if ctx.config.get("delete_namespace") and namespace:
            gone = self._kubernetes(
                ctx,
                {
                    "operation": "delete",
                    "manifests": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}],
                },
                ctx.log,
            )
            if gone.status != "completed":
                return StepResult.fail(f"namespace {namespace} could not be removed: {gone.error}")
        state = UNDEPLOYED if applied else RENDERED
        ops.record_manifests(
            ctx,
            None,
            manifests=mask_secrets(workload),
            operation="delete",
            applied=applied,
            reason=reason,
            state=state,
        )
        return StepResult.ok(applied=applied, reason=reason, namespace=namespace, removed=len(workload))
