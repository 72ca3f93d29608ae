"""What a team's spec may bind to: its own shared resources, platform-shared ones as declared, and
links (`service-port`) to its own applications only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from innominatus.accounts.models import Team
from workflows.choices import ResourceScope
from workflows.models import Application
from workflows.providers.policies import DEFAULT_CLASS, PlatformResource, tenancy_policy
from workflows.score import ScoreProblem


def resource_scope(resource: Mapping[str, Any], team: str) -> tuple[str, PlatformResource | None]:
    """(scope, platform resource) of a declared resource for an application of `team`."""
    resource_id = str(resource.get("id") or "")
    if not resource_id:
        return ResourceScope.APPLICATION, None
    shared = tenancy_policy().platform_resource(
        str(resource.get("type")), str(resource.get("class") or DEFAULT_CLASS), resource_id
    )
    if shared is not None and shared.allows(team):
        return ResourceScope.PLATFORM, shared
    return ResourceScope.TEAM, None


def team_application(name: str, team_id: int | None) -> Application | None:
    """The application called `name` if it belongs to the team (links never reach another team's)."""
    if team_id is None:
        return None
    return Application.objects.select_related("current_revision").filter(name=name, team_id=team_id).first()


def tenancy_problems(spec: Mapping[str, Any], *, team: Team) -> list[ScoreProblem]:
    """Resources of a spec that reach beyond its team: platform-shared ones it may not use or tries to
    change, and links to other teams' workloads."""
    problems: list[ScoreProblem] = []
    resources = spec.get("resources") or {}
    policy = tenancy_policy()
    for name, resource in resources.items():
        where = ("resources", name)
        resource_id = str(resource.get("id") or "")
        shared = policy.platform_resource(
            str(resource.get("type")), str(resource.get("class") or DEFAULT_CLASS), resource_id
        )
        if resource_id and shared is not None:
            problems += _platform_problems(where, resource, shared, team.name)
        params = resource.get("params")
        workload = params.get("workload") if isinstance(params, Mapping) else None
        if isinstance(workload, str) and workload:
            other = Application.objects.filter(name=workload).exclude(team=team).exists()
            if other:
                problems.append(
                    ScoreProblem.at(
                        (*where, "params", "workload"),
                        code="workload-of-another-team",
                        message=(
                            f"workload {workload!r} is not an application of team {team.name!r}; "
                            "links reach only the team's own applications"
                        ),
                    )
                )
    return problems


def _platform_problems(
    where: tuple[str, ...], resource: Mapping[str, Any], shared: PlatformResource, team: str
) -> list[ScoreProblem]:
    label = f"{shared.type}.{shared.resource_class}#{shared.id}"
    if not shared.allows(team):
        return [
            ScoreProblem.at(
                (*where, "id"),
                code="platform-resource-not-shared",
                message=f"{label} is a platform-shared resource that is not shared with team {team!r}",
            )
        ]
    params = resource.get("params")
    if params and params != shared.params:
        return [
            ScoreProblem.at(
                (*where, "params"),
                code="platform-resource-params",
                message=(
                    f"{label} is shared by the platform and only a platform admin changes it "
                    "(admin-config.yaml sharedResources); leave 'params' out to bind to it as it is"
                ),
            )
        ]
    return []
