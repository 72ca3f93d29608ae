"""Approval gate policies (`four_eyes`, `approvers`): parsed and checked in plain Python."""

import pytest

from workflows.engine.approvals import Approver, approval_policy
from workflows.engine.errors import WorkflowValidationError
from workflows.engine.loader import load_workflow

TYPES = {"approval", "noop", "script"}


def _load(step: str) -> None:
    load_workflow(f"metadata: {{name: w}}\nsteps:\n  - {step}\n", known_step_types=TYPES)


def _paths(step: str) -> dict[str, str]:
    with pytest.raises(WorkflowValidationError) as raised:
        _load(step)
    return {problem.path: problem.code for problem in raised.value.problems}


def test_valid_policies_load() -> None:
    _load(
        "{name: gate, type: approval, config: {four_eyes: true, approvers: [role:platform-admin, team:sec]}}"
    )
    _load("{name: gate, type: noop, when: manual, four_eyes: true}")


def test_malformed_policies_are_refused_with_their_path() -> None:
    assert _paths("{name: g, type: approval, config: {four_eyes: 'yes'}}") == {
        "steps[0].config.four_eyes": "invalid_approval_policy"
    }
    assert _paths("{name: g, type: approval, config: {approvers: platform-admin}}") == {
        "steps[0].config.approvers": "invalid_approval_policy"
    }
    assert _paths("{name: g, type: approval, approvers: [role:ok, admins, 3]}") == {
        "steps[0].approvers[1]": "invalid_approval_policy",
        "steps[0].approvers[2]": "invalid_approval_policy",
    }
    assert _paths("{name: g, type: script, config: {four_eyes: true}}") == {
        "steps[0].config.four_eyes": "not_a_gate"
    }


def _person(
    *, roles: set[str] = frozenset(), teams: set[str] = frozenset(), launcher: bool = False
) -> Approver:
    return Approver(username="p", roles=frozenset(roles), teams=frozenset(teams), launched_the_run=launcher)


def test_four_eyes_refuses_the_launcher_approving_but_not_rejecting() -> None:
    policy = approval_policy({"four_eyes": True})
    assert "four eyes" in (policy.refusal(_person(launcher=True), approving=True) or "")
    assert policy.refusal(_person(launcher=True), approving=False) is None
    assert policy.refusal(_person(), approving=True) is None


def test_approvers_list_roles_and_teams() -> None:
    policy = approval_policy({"approvers": ["role:platform-admin", "team:security"]})
    assert policy.refusal(_person(roles={"platform-admin"}), approving=True) is None
    assert policy.refusal(_person(teams={"security"}), approving=False) is None
    refused = policy.refusal(_person(roles={"developer"}, teams={"team-a"}), approving=True)
    assert refused == "only role platform-admin or team security may decide on this gate"
    # A list that names nobody readable lets nobody through.
    assert approval_policy({"approvers": []}).refusal(_person(roles={"developer"}), approving=True)
    assert approval_policy({}).refusal(_person(launcher=True), approving=True) is None
