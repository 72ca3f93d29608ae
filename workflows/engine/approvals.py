"""Who may decide on an approval gate: `four_eyes` and `approvers` in a gate's config.

```yaml
- name: production-gate
  type: approval            # or any step with `when: manual`
  config:
    four_eyes: true         # whoever launched the run may not approve it
    approvers: [role:platform-admin, team:security]   # any of these; empty means any user
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

POLICY_KEYS = ("four_eyes", "approvers")
APPROVER_PATTERN = re.compile(r"(role|team):([A-Za-z0-9][A-Za-z0-9_.-]{0,99})")


@dataclass(frozen=True)
class Approver:
    """The facts about a person that a gate's policy is checked against."""

    username: str
    roles: frozenset[str]
    teams: frozenset[str]
    launched_the_run: bool


@dataclass(frozen=True)
class ApprovalPolicy:
    """A gate's policy: the launcher excluded (four eyes) and/or only listed roles or teams."""

    four_eyes: bool = False
    roles: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    # An `approvers` key restricts the gate even when none of its entries could be read.
    restricted: bool = False

    def refusal(self, approver: Approver, *, approving: bool) -> str | None:
        """Why `approver` may not decide (None when they may); four eyes binds approvals only."""
        if approving and self.four_eyes and approver.launched_the_run:
            return "this gate needs four eyes: someone other than the person who launched the run must approve it"
        if not self.restricted:
            return None
        if approver.roles & set(self.roles) or approver.teams & set(self.teams):
            return None
        return f"only {self.describe() or 'the listed approvers'} may decide on this gate"

    def describe(self) -> str:
        """The listed approvers in words ("role platform-admin or team security")."""
        listed = [f"role {name}" for name in self.roles] + [f"team {name}" for name in self.teams]
        return " or ".join(listed)


def policy_problems(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, message) for every malformed policy key of a gate's config."""
    problems: list[tuple[str, str]] = []
    four_eyes = config.get("four_eyes")
    if four_eyes is not None and not isinstance(four_eyes, bool):
        problems.append(("four_eyes", "four_eyes must be true or false"))
    approvers = config.get("approvers")
    if approvers is None:
        return problems
    if not isinstance(approvers, list):
        return [
            *problems,
            ("approvers", "approvers must be a list such as [role:platform-admin, team:security]"),
        ]
    for index, entry in enumerate(approvers):
        if not isinstance(entry, str) or not APPROVER_PATTERN.fullmatch(entry):
            problems.append((f"approvers[{index}]", f"{entry!r} is not role:<role name> or team:<team name>"))
    return problems


def approval_policy(config: Mapping[str, Any]) -> ApprovalPolicy:
    """The policy of a gate whose config passed policy_problems (unknown shapes grant nothing extra)."""
    entries = [
        match.groups()
        for entry in config.get("approvers") or []
        if isinstance(entry, str) and (match := APPROVER_PATTERN.fullmatch(entry))
    ]
    return ApprovalPolicy(
        four_eyes=config.get("four_eyes") is True,
        roles=tuple(name for kind, name in entries if kind == "role"),
        teams=tuple(name for kind, name in entries if kind == "team"),
        restricted=config.get("approvers") is not None,
    )


def has_policy(config: Mapping[str, Any]) -> bool:
    """Whether a step's config sets any approval policy key."""
    return any(key in config for key in POLICY_KEYS)
