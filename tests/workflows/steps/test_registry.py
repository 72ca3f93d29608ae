"""The step types built here are registered under their names and aliases."""

from __future__ import annotations

from workflows.steps.approval import ApprovalStep
from workflows.steps.git import GitStep
from workflows.steps.http import HttpStep
from workflows.steps.noop import NoopStep
from workflows.steps.registry import get_step, step_classes
from workflows.steps.script import ScriptStep
from workflows.steps.sleep import SleepStep
from workflows.steps.terraform import TerraformStep


def test_step_types_and_aliases_are_registered() -> None:
    classes = step_classes()
    expected = {
        "noop": NoopStep,
        "sleep": SleepStep,
        "approval": ApprovalStep,
        "script": ScriptStep,
        "policy": ScriptStep,
        "terraform": TerraformStep,
        "http": HttpStep,
        "git": GitStep,
    }
    for name, cls in expected.items():
        assert classes[name] is cls, name
    assert isinstance(get_step("policy"), ScriptStep)
    assert get_step("approval").requires_approval
