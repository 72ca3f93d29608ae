"""Who owns a cluster object: the labels innominatus stamps on what it creates, and the check before it
applies over or deletes a live object (plain Python: no database)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "innominatus"
TEAM = "innominatus.io/team"
APPLICATION = "innominatus.io/application"
ENVIRONMENT = "innominatus.io/environment"
RESOURCE_UID = "innominatus.io/resource-uid"
# A namespace innominatus keeps for the whole platform (shared resources); no team owns it.
PLATFORM = "innominatus.io/platform"
# A namespace innominatus keeps for one team's shared resources; no single application owns it.
TEAM_SHARED = "innominatus.io/team-shared"
# What objects applied before ownership labels carry: the application's (globally unique) name.
LEGACY_APPLICATION = "innominatus.dev/app"
# Annotations for people reading the object: which execution last applied it.
EXECUTION = "innominatus.io/execution"


# "" for an object owned by one application; otherwise the kind of shared namespace it is.
SharedScope = Literal["", "platform", "team"]


@dataclass(frozen=True)
class Owner:
    """The team, application and (optionally) environment and resource an execution acts for."""

    team: str
    application: str
    environment: str = ""
    resource_uid: str = ""
    # Namespaces innominatus keeps for the whole platform, where any owner may place its own objects.
    platform_namespaces: frozenset[str] = frozenset()
    # Namespaces innominatus keeps for the owner's team, where any application of the team may place its own.
    team_namespaces: frozenset[str] = frozenset()

    def shared_scope(self, kind: str, name: str) -> SharedScope:
        """Whether the object `kind`/`name` is a namespace kept for the platform or for the team."""
        if kind != "Namespace":
            return ""
        if name in self.platform_namespaces:
            return "platform"
        return "team" if name in self.team_namespaces else ""

    def labels(self) -> dict[str, str]:
        """The ownership labels of every object this owner creates."""
        labels = {MANAGED_BY: MANAGER, TEAM: self.team, APPLICATION: self.application}
        if self.environment:
            labels[ENVIRONMENT] = self.environment
        if self.resource_uid:
            labels[RESOURCE_UID] = self.resource_uid
        return labels

    def selector(self) -> str:
        """A label selector matching what this owner created."""
        return ",".join(f"{key}={value}" for key, value in self.labels().items())

    def describe(self) -> str:
        """`team team-a, application shop` for messages."""
        text = f"team {self.team or '(none)'}, application {self.application}"
        return f"{text}, environment {self.environment}" if self.environment else text


def _shared_labels(owner: Owner, shared: SharedScope) -> dict[str, str]:
    if shared == "platform":
        return {MANAGED_BY: MANAGER, PLATFORM: "true"}
    if shared == "team":
        return {MANAGED_BY: MANAGER, TEAM: owner.team, TEAM_SHARED: "true"}
    return owner.labels()


def stamp(
    manifest: Mapping[str, Any], owner: Owner, *, execution_id: str = "", shared: SharedScope = ""
) -> dict[str, Any]:
    """A copy of `manifest` carrying the owner's labels (a shared namespace carries no application's)."""
    result = copy.deepcopy(dict(manifest))
    metadata = result.setdefault("metadata", {})
    labels = dict(metadata.get("labels") or {})
    # Ownership labels always win over what a template wrote: a workflow cannot claim another owner.
    for key in (TEAM, APPLICATION, ENVIRONMENT, RESOURCE_UID, PLATFORM, TEAM_SHARED):
        labels.pop(key, None)
    labels.update(_shared_labels(owner, shared))
    metadata["labels"] = labels
    if execution_id:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), EXECUTION: execution_id}
    return result


def _describe(kind: str, name: str, namespace: str | None) -> str:
    return f"{kind.lower()} {namespace}/{name}" if namespace else f"{kind.lower()} {name}"


def ownership_problem(
    live: Mapping[str, Any], owner: Owner, *, shared: SharedScope = "", read: bool = False
) -> str:
    """Why `owner` may not apply over or delete the live object; '' when it owns it.

    A platform namespace is acceptable to every owner, a team's shared namespace to every application
    of that team, when innominatus manages it as such. To `read` an object it is enough that
    innominatus manages it for the owner's team.
    """
    metadata = live.get("metadata") or {}
    labels = metadata.get("labels") or {}
    what = _describe(str(live.get("kind") or "object"), str(metadata.get("name")), metadata.get("namespace"))
    if labels.get(MANAGED_BY) != MANAGER:
        return f"{what} exists and is not managed by innominatus"
    if shared == "team":
        if labels.get(TEAM) == owner.team and labels.get(TEAM_SHARED) == "true":
            return ""
        return f"{what} exists and is not the shared namespace innominatus manages for team {owner.team}"
    if shared == "platform":
        # One made before ownership labels (no team) is adopted as the platform's.
        if labels.get(PLATFORM) == "true" or TEAM not in labels:
            return ""
        return f"{what} exists and is not the platform namespace innominatus manages"
    if labels.get(PLATFORM) == "true" or labels.get(TEAM_SHARED) == "true":
        return f"{what} is a shared namespace, not owned by {owner.describe()}"
    if TEAM not in labels:
        legacy = labels.get(LEGACY_APPLICATION, "")
        if legacy and legacy == owner.application and not owner.environment:
            # Applied for this application before ownership labels existed: adopted, labelled now.
            return ""
        return f"{what} exists without an owning team (application {legacy or '?'}), not {owner.describe()}"
    if labels.get(TEAM, "") != owner.team:
        return f"{what} exists and is managed by innominatus for another team, not {owner.describe()}"
    if read:
        return ""
    same_resource = bool(owner.resource_uid) and labels.get(RESOURCE_UID) == owner.resource_uid
    if not same_resource and labels.get(APPLICATION, "") != owner.application:
        return f"{what} exists and belongs to another application, not {owner.describe()}"
    if owner.environment and labels.get(ENVIRONMENT, "") != owner.environment:
        return f"{what} exists and belongs to another environment, not {owner.describe()}"
    if not owner.environment and labels.get(ENVIRONMENT):
        return f"{what} belongs to environment {labels[ENVIRONMENT]}, not {owner.describe()}"
    return ""
