"""Tests for the noop step."""

from __future__ import annotations

from pathlib import Path

from tests.workflows.steps.helpers import make_ctx, recorder
from workflows.steps.noop import NoopStep


def test_returns_configured_outputs_and_logs(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"outputs": {"url": "https://x.test", "replicas": 3}}, step_name="n1")
    result = NoopStep().run(ctx)
    assert result.status == "completed"
    assert result.outputs == {"url": "https://x.test", "replicas": 3}
    assert recorder(ctx).lines() == ["noop step n1: 2 output(s)"]


def test_without_outputs_returns_nothing(tmp_path: Path) -> None:
    result = NoopStep().run(make_ctx(tmp_path, {}))
    assert result.status == "completed"
    assert result.outputs == {}


def test_fail_makes_the_step_fail(tmp_path: Path) -> None:
    result = NoopStep().run(make_ctx(tmp_path, {"fail": "boom", "outputs": {"a": 1}}))
    assert result.status == "failed"
    assert result.error == "boom"
    assert result.outputs == {"a": 1}
    assert NoopStep().run(make_ctx(tmp_path, {"fail": True})).status == "failed"


def test_validate_config() -> None:
    assert NoopStep().validate_config({"outputs": {"a": 1}}) == []
    assert NoopStep().validate_config({"outputs": ["a"]}) == ["config.outputs must be a mapping"]
    assert NoopStep().validate_config({"fail": 3}) == ["config.fail must be a message or a boolean"]
