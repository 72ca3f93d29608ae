"""Every MCP tool × role × own/other team answers as the API's permission map and team scoping say.

In-process through the /mcp view (Django's test client, a real API key per user): the tool list shows
exactly the tools the role grants, a tool the role lacks is refused with 403, an object of another
team is invisible (404) to everybody but platform admins, and lists show only the caller's teams.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction

from innominatus.accounts import rbac
from innominatus.accounts.config import access_config
from innominatus.mcp.tools import TOOLS
from tests.mcp.mcp_helpers import McpHttp
from tests.workflows.api.factories import make_application, make_execution, make_resource, make_step, score
from workflows.engine.model import StepDefinition, WorkflowDefinition

ROLES = ("platform-admin", "developer", "viewer")
# Tools that address one object of a team: another team's object is hidden from non-admins.
SCOPED = frozenset(
    {
        "get_application",
        "plan_spec",
        "deploy_spec",
        "get_workflow",
        "get_workflow_logs",
        "retry_workflow",
        "cancel_workflow",
        "approve_workflow",
        "reject_workflow",
        "run_golden_path",
        "get_resource",
    }
)
# Submitting for another team's application or launching a path on it may answer 403 instead of 404.
REFUSED_EITHER_WAY = frozenset({"plan_spec", "deploy_spec", "run_golden_path"})


@dataclass
class World:
    users: dict[str, Any]
    apps: dict[str, Any]
    executions: dict[str, Any]
    resources: dict[str, Any]


@pytest.fixture
def world(make_user: Any, settings: Any) -> World:
    # Launches are enqueued, not run inline: the matrix is about who may, not about the cluster.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    users = {
        "platform-admin": make_user("boss", team=None, role="platform-admin"),
        "developer": make_user("dev-a", team="team-a", role="developer"),
        "viewer": make_user("view-a", team="team-a", role="viewer"),
    }
    owner_b = make_user("dev-b", team="team-b", role="developer")
    apps = {"own": make_application(users["developer"], "app-a"), "other": make_application(owner_b, "app-b")}
    executions = {scope: make_execution(app, status="failed") for scope, app in apps.items()}
    for execution in executions.values():
        make_step(execution)
        # A real definition snapshot, so that a retry can rebuild the run.
        steps = (StepDefinition(name="apply", type="noop"),)
        execution.definition = WorkflowDefinition(name="deploy", steps=steps).to_dict()
        execution.save(update_fields=["definition"])
    resources = {scope: make_resource(app) for scope, app in apps.items()}
    return World(users=users, apps=apps, executions=executions, resources=resources)


def _arguments(tool: str, scope: str, world: World, mcp: McpHttp) -> dict[str, Any]:
    app = world.apps[scope].name
    execution = str(world.executions[scope].pk)
    by_tool: dict[str, dict[str, Any]] = {
        "get_application": {"name": app},
        "validate_spec": {"spec": score(app)},
        "plan_spec": {"spec": score(app)},
        "get_workflow": {"id": execution},
        "get_workflow_logs": {"id": execution},
        "retry_workflow": {"id": execution},
        "cancel_workflow": {"id": execution},
        "approve_workflow": {"id": execution},
        "reject_workflow": {"id": execution},
        "get_golden_path": {"name": "deploy-app"},
        "run_golden_path": {"name": "deploy-app", "parameters": {"app_name": app}},
        "get_resource": {"id": world.resources[scope].pk},
    }
    if tool == "deploy_spec":
        planned = mcp.call("plan_spec", spec=score(app))
        confirm = planned["structuredContent"].get("plan_id", "plan-none") if not planned["isError"] else "x"
        return {"spec": score(app), "confirm": confirm}
    return by_tool.get(tool, {})


def _expected(tool: str, role: str, scope: str) -> str:
    needed = TOOLS[tool].permission()
    assert needed is not None, f"{tool} has no permission decision"
    if needed not in (rbac.PUBLIC, rbac.AUTHENTICATED) and not rbac.grants(
        access_config().roles[role], needed
    ):
        return "403"
    if scope == "other" and tool in SCOPED and role != "platform-admin":
        return "hidden"
    return "allowed"


def _status(result: dict[str, Any]) -> int:
    if not result["isError"]:
        return 200
    content = result["structuredContent"]
    if content["status"] == 400 and any(e.get("code") == "not-visible" for e in content["errors"]):
        return 404
    return int(content["status"])


def _matches(expected: str, tool: str, status: int) -> bool:
    if expected == "allowed":
        # A conflict or validation answer is fine: the call got past authorization and scoping.
        return status < 500 and status not in (401, 403, 404)
    if expected == "hidden":
        # Submitting for another team's application may be refused with 403; a golden path's parameter
        # naming an invisible application is reported as not-visible (counted as 404 above).
        return status == 404 or (tool in REFUSED_EITHER_WAY and status == 403)
    return status == int(expected)


@pytest.mark.django_db
def test_every_tool_answers_per_role_and_team(world: World) -> None:
    failures = []
    for role in ROLES:
        mcp = McpHttp(world.users[role])
        listed = set(mcp.tools())
        granted = {name for name in TOOLS if _expected(name, role, "own") != "403"}
        if listed != granted:
            failures.append(f"{role}: lists {sorted(listed ^ granted)} wrongly")
        for tool in TOOLS:
            for scope in ("own", "other"):
                with transaction.atomic():
                    result = mcp.call(tool, **_arguments(tool, scope, world, mcp))
                    transaction.set_rollback(True)
                expected = _expected(tool, role, scope)
                status = _status(result)
                if not _matches(expected, tool, status):
                    failures.append(f"{role} {tool} {scope}: expected {expected}, got {status}: {result}")
    assert failures == [], "\n".join(failures)


@pytest.mark.django_db
def test_lists_show_only_the_callers_teams(world: World) -> None:
    for role in ROLES:
        mcp = McpHttp(world.users[role])
        apps = {a["name"] for a in mcp.call("list_applications")["structuredContent"]["results"]}
        workflows = {w["app_name"] for w in mcp.call("list_workflows")["structuredContent"]["results"]}
        resources = {r["app_name"] for r in mcp.call("list_resources")["structuredContent"]["results"]}
        expected = {"app-a", "app-b"} if role == "platform-admin" else {"app-a"}
        assert (apps, workflows, resources) == (expected, expected, expected), role


@pytest.mark.django_db
def test_the_rules_the_issue_names(world: World) -> None:
    viewer = McpHttp(world.users["viewer"])
    assert "deploy_spec" not in viewer.tools()
    refused = viewer.call("deploy_spec", spec=score("app-a"), confirm="plan-x")
    assert refused["isError"] and refused["structuredContent"]["status"] == 403
    developer = McpHttp(world.users["developer"])
    assert "reload_providers" not in developer.tools()
    assert developer.call("reload_providers")["structuredContent"]["status"] == 403
    hidden = developer.call("get_application", name="app-b")
    assert hidden["isError"] and hidden["structuredContent"]["status"] == 404
