"""The `noop` step: reports its configured outputs, or fails on request (tests, benchmarks, placeholders)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.steps.base import Step, StepContext, StepResult


class NoopStep(Step):
    """Returns `config.outputs` as its outputs and logs one line; `config.fail` (a message) makes it fail."""

    type_name = "noop"
    # The original innominatus's `dummy` step did nothing either.
    aliases = ("dummy",)

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        outputs = config.get("outputs")
        if outputs is not None and not isinstance(outputs, Mapping):
            return ["config.outputs must be a mapping"]
        fail = config.get("fail")
        if fail is not None and not isinstance(fail, str | bool):
            return ["config.fail must be a message or a boolean"]
        return []

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        outputs = {str(key): value for key, value in (ctx.config.get("outputs") or {}).items()}
        message = ctx.config.get("message")
        ctx.log(str(message) if message else f"noop step {ctx.step_name}: {len(outputs)} output(s)", "system")
        fail = ctx.config.get("fail")
        if fail:
            return StepResult.fail(
                fail if isinstance(fail, str) else "noop step configured to fail", **outputs
            )
        return StepResult.ok(**outputs)
