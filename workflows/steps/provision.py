"""The `provision` step: create, update or delete one resource through its provider's workflow.

Configuration:

- `resource`: the resource's name under `resources:` in the application's spec.
- `operation`: `create` (default), `update` or `delete`.
- `instance`: the resource instance id (set by generated deploy workflows; golden paths name the resource).
- `regenerate`: generated values to create anew before the workflow runs (e.g. `[password]`).
- `wait_timeout`: how long a delegated or external resource may take to be reported active (default 30m).

The step moves the resource through its lifecycle (requested → provisioning → active, active →
updating → active, active → terminating → terminated, or failed with the reason), runs the
provider's workflow inline, and stores its outputs; secret outputs are encrypted at rest and
appear masked in this step's outputs. Nothing here touches the database directly: the runtime's
`resource_ops` does the bookkeeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from workflows.engine.durations import parse_duration
from workflows.steps.base import ProvisionJob, Step, StepContext, StepResult, StepStopped, redacting_log
from workflows.steps.inline import InlineResult, run_inline

OPERATIONS = ("create", "update", "delete")
DEFAULT_WAIT = 1800.0


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


class ProvisionStep(Step):
    """Runs a resource operation through the provider that claims the resource's type."""

    type_name = "provision"
    uses_resources = True

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems = []
        if not config.get("resource") and not config.get("instance"):
            problems.append("config.resource is required")
        operation = config.get("operation", "create")
        if operation not in OPERATIONS and not _templated(operation):
            problems.append(f"config.operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
        regenerate = config.get("regenerate")
        if regenerate is not None and not (
            isinstance(regenerate, list) and all(isinstance(item, str) for item in regenerate)
        ):
            problems.append("config.regenerate must be a list of generated value names")
        instance = config.get("instance")
        if instance is not None and not isinstance(instance, int) and not _templated(instance):
            problems.append("config.instance must be a resource instance id")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        ops = ctx.resource_ops
        if ops is None:
            return StepResult.fail("provision steps run only inside innominatus executions")
        instance = ctx.config.get("instance")
        try:
            job = ops.begin_provision(
                ctx,
                resource=str(ctx.config.get("resource") or ""),
                operation=str(ctx.config.get("operation") or "create"),
                instance=int(instance) if instance is not None else None,
                regenerate=list(ctx.config.get("regenerate") or []),
            )
        except (LookupError, ValueError) as exc:
            ctx.log(str(exc), "system", "error")
            return StepResult.fail(str(exc))
        return self._run_job(ctx, job)

    def _run_job(self, ctx: StepContext, job: ProvisionJob) -> StepResult:
        ops = ctx.resource_ops
        assert ops is not None
        log = redacting_log(ctx.log, [*ctx.secrets, *job.secrets])
        summary = {"resource": job.resource, "type": job.resource_type, "provider": job.provider}
        try:
            if job.workflow is None:
                log(job.message or f"{job.resource}: nothing to run", "system")
                result = InlineResult()
                masked = ops.finish_provision(ctx, job, outputs=None)
            else:
                label = f"{job.provider}/{job.workflow.name}"
                log(f"{job.operation} {job.resource_type} resource '{job.resource}' with {label}", "system")
                # The resource's objects carry its uid: a shared resource stays one owner's, whichever
                # application of that team provisions it.
                owned = (
                    ctx
                    if ctx.owner is None
                    else replace(ctx, owner=replace(ctx.owner, resource_uid=str(job.instance_id)))
                )
                result = run_inline(owned, job.workflow, job.parameters, log=log, label=label)
                masked = ops.finish_provision(
                    ctx, job, outputs=result.outputs, error=result.error, render_only=result.render_only
                )
            if not result.error and job.kind != "native" and job.operation != "delete":
                timeout = parse_duration(ctx.config.get("wait_timeout", DEFAULT_WAIT))
                log(f"waiting up to {timeout:g}s for the {job.kind} resource to be reported active", "system")
                state, masked = ops.await_report(ctx, job, timeout=timeout)
                if state != "active":
                    return StepResult.fail(f"{job.kind} resource '{job.resource}' ended {state}", **summary)
        except StepStopped as stop:
            ops.finish_provision(ctx, job, outputs=None, error=f"stopped: {stop.reason}")
            raise
        except Exception as exc:
            # Leave no resource in a working state behind a crash; the runner records the traceback.
            ops.finish_provision(ctx, job, outputs=None, error=f"internal error: {type(exc).__name__}: {exc}")
            raise
        if result.error:
            log(result.error, "system", "error")
            return StepResult.fail(result.error, **summary)
        applied = not result.render_only
        if not applied:
            log(
                f"render-only mode: {job.resource} was rendered, not applied ({result.render_only})", "system"
            )
        return StepResult.ok(
            **summary,
            operation=job.operation,
            applied=applied,
            reason=result.render_only,
            outputs=masked,
        )
