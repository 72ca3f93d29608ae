"""The `sleep` step: waits `config.duration` (seconds or `5s`, `2m` …); cancel and timeout interrupt it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.engine.durations import format_duration, parse_duration
from workflows.steps.base import Step, StepContext, StepResult


class SleepStep(Step):
    """Sleeps in small ticks through ctx.sleep so a stop request ends it promptly."""

    type_name = "sleep"

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        duration = config.get("duration")
        if duration is None:
            return ["config.duration is required"]
        # An unrendered template is checked after rendering, at run time.
        if isinstance(duration, str) and "{{" in duration:
            return []
        try:
            parse_duration(duration)
        except ValueError as exc:
            return [f"config.duration: {exc}"]
        return []

    def run(self, ctx: StepContext) -> StepResult:
        try:
            seconds = parse_duration(ctx.config.get("duration", ""))
        except ValueError as exc:
            return StepResult.fail(f"config.duration: {exc}")
        ctx.log(f"sleeping {format_duration(seconds)}", "system")
        ctx.sleep(seconds)
        return StepResult.ok(slept_seconds=seconds)
