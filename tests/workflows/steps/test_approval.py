"""Tests for the approval step."""

from __future__ import annotations

from pathlib import Path

from tests.workflows.steps.helpers import make_ctx, recorder
from workflows.steps.approval import ApprovalStep


def test_is_an_approval_gate() -> None:
    assert ApprovalStep.requires_approval is True


def test_run_after_approval_reports_approved(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"message": "Deploy to production?"})
    result = ApprovalStep().run(ctx)
    assert result.status == "completed"
    assert result.outputs == {"approved": True}
    assert recorder(ctx).lines() == ["approved: Deploy to production?"]


def test_message_must_be_a_string() -> None:
    assert ApprovalStep().validate_config({"message": "ok?"}) == []
    assert ApprovalStep().validate_config({}) == []
    assert ApprovalStep().validate_config({"message": ["no"]}) == ["config.message must be a string"]
