"""Step types of the original innominatus that are not real integrations here.

- The original *simulated* some step types: its executor logged a line and reported success
  without doing anything (`validation`, `security`, `monitoring`, `tagging`, `cost-analysis`,
  `database-migration`, `vault-setup`). Files using them load unchanged and run as an explicit
  no-op whose log says that the original only simulated the type — never a silent fake success.
- `resource-provisioning` provisions the application's requested resources (in dependency order,
  through their providers), which is what the original's simulation stood for.
- `terraform-generate` writes a Terraform module from its parameters into the execution's
  workspace, where a later `terraform` step with the same `workspace` finds it.

`dummy` is an alias of `noop` (workflows/steps/noop.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from workflows.steps.base import Step, StepContext, StepResult
from workflows.steps.process import safe_name
from workflows.steps.provision import ProvisionStep

SIMULATED_TYPES = (
    "validation",
    "security",
    "monitoring",
    "tagging",
    "cost-analysis",
    "database-migration",
    "vault-setup",
)
_TF_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class SimulatedStep(Step):
    """A step type the original innominatus only simulated: a logged no-op, marked as such."""

    type_name = "validation"
    aliases = SIMULATED_TYPES[1:]

    def run(self, ctx: StepContext) -> StepResult:
        ctx.log(
            f"step type '{ctx.step_type}': the original innominatus only simulated this step type "
            "(it logged and reported success without doing anything); innominatus does the same "
            "explicitly: nothing was done",
            "system",
        )
        return StepResult.ok(simulated=True, done="nothing")


class ResourceProvisioningStep(Step):
    """Provisions the application's requested resources, as a deploy with `provision: true` does."""

    type_name = "resource-provisioning"
    uses_resources = True

    def run(self, ctx: StepContext) -> StepResult:
        ops = ctx.resource_ops
        if ops is None:
            return StepResult.fail("resource-provisioning steps run only inside innominatus executions")
        try:
            planned = ops.plan_resources(ctx, operation="apply")
        except (LookupError, ValueError) as exc:
            return StepResult.fail(str(exc))
        if not planned:
            ctx.log("the application requests no resources that need provisioning", "system")
        for item in planned:
            config = {"resource": item.resource, "operation": item.operation, "instance": item.instance}
            result = ProvisionStep().run(replace(ctx, config=config, step_type="provision"))
            if result.status != "completed":
                return StepResult.fail(f"resource {item.resource!r} could not be provisioned: {result.error}")
        return StepResult.ok(provisioned=[item.resource for item in planned])


def _tf_value(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | list | dict) or value is None else str(value)


class TerraformGenerateStep(Step):
    """Writes `main.tf.json` (variables with defaults, resources, outputs) into a terraform workspace.

    Configuration: `workspace` (default: the step name; a later `terraform` step names the same),
    `variables` ({name: default}), `resources` ({type: {name: body}}, Terraform JSON syntax),
    `outputs` ({name: expression}), `module`/`source` + `inputs` (a module block instead).
    """

    type_name = "terraform-generate"

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems = []
        for key in ("variables", "resources", "outputs", "inputs"):
            value = config.get(key)
            if value is not None and not isinstance(value, Mapping):
                problems.append(f"config.{key} must be a mapping")
        for name in config.get("variables") or {}:
            if not _TF_NAME.match(str(name)):
                problems.append(f"config.variables: {name!r} is not a Terraform name")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        config = ctx.config
        module: dict[str, Any] = {}
        variables = {str(k): {"default": _tf_value(v)} for k, v in (config.get("variables") or {}).items()}
        if variables:
            module["variable"] = variables
        if config.get("resources"):
            module["resource"] = config["resources"]
        source = config.get("module") or config.get("source")
        if source:
            module["module"] = {"generated": {"source": str(source), **dict(config.get("inputs") or {})}}
        if config.get("outputs"):
            module["output"] = {str(k): {"value": v} for k, v in config["outputs"].items()}
        if not module:
            # The original's generator wrote an (empty) module from the workflow's parameters.
            module["locals"] = {"generated_by": f"innominatus terraform-generate {ctx.step_name}"}
        workspace = Path(ctx.workdir) / "terraform" / safe_name(config.get("workspace") or ctx.step_name)
        try:
            workspace.mkdir(parents=True, exist_ok=True)
            target = workspace / "main.tf.json"
            target.write_text(json.dumps(module, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as exc:
            return StepResult.fail(f"cannot write the terraform module: {exc}")
        ctx.log(f"wrote {target.relative_to(Path(ctx.workdir))} ({', '.join(sorted(module))})", "system")
        return StepResult.ok(workspace=str(workspace), path=str(target))
