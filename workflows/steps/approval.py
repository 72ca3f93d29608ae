"""The `approval` step: a gate that waits in `waiting` until a person approves it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.steps.base import Step, StepContext, StepResult


class ApprovalStep(Step):
    """The runtime pauses this step until approved; run() is only called after approval."""

    type_name = "approval"
    requires_approval = True

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        message = config.get("message")
        if message is not None and not isinstance(message, str):
            return ["config.message must be a string"]
        return []

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        message = ctx.config.get("message")
        ctx.log(f"approved: {message}" if message else "approved", "system")
        return StepResult.ok(approved=True)
