"""The MCP tools: each one a call into the REST API view that serves the same use case.

A tool is described once (name, what it does, which endpoint) and its input schema is generated from
that endpoint's OpenAPI operation. Refusals are the API's own problem answers (status, detail and
each problem's path), which server.py turns into MCP tool errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from innominatus.accounts import rbac
from innominatus.mcp import schemas
from innominatus.mcp.dispatch import Caller, call_api, required_permission
from innominatus.mcp.problems import ToolProblem, ok_data, problem_from
from innominatus.mcp.specs import VALIDATE_PERMISSION, deploy_spec, plan_spec, validate_offline

__all__ = ["TOOLS", "Tool", "ToolProblem", "problem_from"]

# Log tails are bounded so one call cannot flood an agent's context window.
MAX_LOG_LINES = 500
DEFAULT_LOG_LINES = 200
MAX_LOG_CHARS = 60_000


@dataclass(frozen=True)
class Tool:
    """An MCP tool: its endpoint (for the schema and the permission) and how it is run."""

    name: str
    title: str
    description: str
    method: str
    path: str
    run: Callable[[Caller, dict[str, Any]], Any]
    exclude: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)
    extra_required: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)
    read_only: bool = True
    # For tools that are no single endpoint call (offline validation): the permission they need.
    needs: str | None = None

    @functools.cached_property
    def _schema(self) -> tuple[dict[str, Any], dict[str, str]]:
        schema, places = schemas.operation_input(self.method, self.path, exclude=self.exclude)
        schema["properties"].update(self.extra)
        for name, override in self.overrides.items():
            schema["properties"][name] = {**schema["properties"].get(name, {}), **override}
        required = [*schema.get("required", []), *self.extra_required]
        if required:
            schema["required"] = list(dict.fromkeys(required))
        return schema, places

    @property
    def input_schema(self) -> dict[str, Any]:
        return self._schema[0]

    @property
    def places(self) -> dict[str, str]:
        return self._schema[1]

    def permission(self) -> str | None:
        """The permission the API declares for this tool's endpoint."""
        if self.needs is not None:
            return self.needs
        return required_permission(self.method, self.path.replace("{id}", "1").replace("{name}", "x"))

    def allowed(self, user: Any) -> bool:
        needed = self.permission()
        if needed is None:
            return False
        return needed in (rbac.PUBLIC, rbac.AUTHENTICATED) or rbac.has_permission(user, needed)


def _forward(tool: Tool, caller: Caller, arguments: dict[str, Any]) -> Any:
    """Call the tool's endpoint, each argument in its place (path, query or JSON body)."""
    path = tool.path
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for name, value in arguments.items():
        place = tool.places.get(name, "query")
        if place == "path":
            # Quoted: a value can never add a path segment and reach another endpoint.
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        elif place == "body":
            body[name] = value
        else:
            query[name] = value
    has_body = tool.method in ("POST", "PUT", "PATCH")
    return ok_data(call_api(caller, tool.method, path, query=query, body=body if has_body else None))


def _plain(tool_name: str) -> Callable[[Caller, dict[str, Any]], Any]:
    return lambda caller, arguments: _forward(TOOLS[tool_name], caller, arguments)


def _with_parameter_schemas(data: Any) -> Any:
    paths = data if isinstance(data, list) else [data]
    for path in paths:
        if isinstance(path, dict):
            path["parameters_schema"] = schemas.parameters_schema(path.get("parameters") or [])
    return data


def _golden_paths(caller: Caller, arguments: dict[str, Any]) -> Any:
    return _with_parameter_schemas(_forward(TOOLS["list_golden_paths"], caller, arguments))


def _golden_path(caller: Caller, arguments: dict[str, Any]) -> Any:
    return _with_parameter_schemas(_forward(TOOLS["get_golden_path"], caller, arguments))


def _logs(caller: Caller, arguments: dict[str, Any]) -> Any:
    arguments = {**arguments, "limit": min(int(arguments.get("limit") or DEFAULT_LOG_LINES), MAX_LOG_LINES)}
    page = _forward(TOOLS["get_workflow_logs"], caller, arguments)
    kept, size = [], 0
    for line in page.get("lines", []):
        size += len(str(line.get("message", ""))) + 64
        if size > MAX_LOG_CHARS:
            # Stop at a line boundary; next_after lets the agent continue from there.
            page["truncated"] = True
            page["complete"] = False
            break
        kept.append(line)
    if page.get("truncated"):
        page["lines"] = kept
        page["next_after"] = kept[-1]["id"] if kept else arguments.get("after", 0)
    return page


_SPEC = {
    "spec": {
        "type": "string",
        "description": "The Score workload spec, YAML or JSON text (see resource innominatus://score/schema).",
    }
}
_SUBMIT_EXCLUDE = frozenset({"dry_run", "comment"})


def _tools() -> dict[str, Tool]:
    wf = "/api/workflows/{id}"
    entries = [
        Tool(
            "list_applications",
            "List applications",
            "Applications the caller's teams own.",
            "GET",
            "/api/applications",
            _plain("list_applications"),
        ),
        Tool(
            "get_application",
            "Get an application",
            "One application with its current revision and resources.",
            "GET",
            "/api/applications/{name}",
            _plain("get_application"),
        ),
        Tool(
            "validate_spec",
            "Validate a Score spec",
            "Check a Score spec offline (schema, placeholders, resource types); changes nothing.",
            "POST",
            "/api/applications",
            validate_offline,
            exclude=frozenset({"dry_run", "comment", "team"}),
            extra=_SPEC,
            extra_required=("spec",),
            needs=VALIDATE_PERMISSION,
        ),
        Tool(
            "plan_spec",
            "Plan a deployment",
            "Dry run of a submission: the plan (resource actions, next revision) and the manifest diff "
            "against what is deployed. Returns plan_id, which deploy_spec needs as confirm.",
            "POST",
            "/api/applications",
            plan_spec,
            exclude=_SUBMIT_EXCLUDE,
            extra=_SPEC,
            extra_required=("spec",),
        ),
        Tool(
            "deploy_spec",
            "Deploy a planned spec",
            "Submit a Score spec and start its deploy workflow. Requires confirm = the plan_id that "
            "plan_spec returned for the same spec; refused if the plan changed since.",
            "POST",
            "/api/applications",
            deploy_spec,
            exclude=frozenset({"dry_run"}),
            extra={
                **_SPEC,
                "confirm": {"type": "string", "description": "plan_id from plan_spec."},
                "comment": {"type": "string", "maxLength": 500, "description": "Revision comment."},
            },
            extra_required=("spec", "confirm"),
            read_only=False,
        ),
        Tool(
            "list_workflows",
            "List workflow executions",
            "Workflow executions, newest first; filter by app, status, workflow_name, since/until.",
            "GET",
            "/api/workflows",
            _plain("list_workflows"),
        ),
        Tool(
            "get_workflow",
            "Workflow status and steps",
            "One workflow execution: status, error, parameters, outputs and every step.",
            "GET",
            wf,
            _plain("get_workflow"),
        ),
        Tool(
            "get_workflow_logs",
            "Workflow logs",
            f"Log lines of an execution (at most {MAX_LOG_LINES} per call; continue with after=next_after).",
            "GET",
            f"{wf}/logs",
            _logs,
            overrides={"limit": {"maximum": MAX_LOG_LINES, "default": DEFAULT_LOG_LINES}},
        ),
        Tool(
            "retry_workflow",
            "Retry a workflow",
            "Start a new run of a failed or cancelled execution.",
            "POST",
            f"{wf}/retry",
            _plain("retry_workflow"),
            read_only=False,
        ),
        Tool(
            "cancel_workflow",
            "Cancel a workflow",
            "Cancel a pending, running or waiting execution.",
            "POST",
            f"{wf}/cancel",
            _plain("cancel_workflow"),
            read_only=False,
        ),
        Tool(
            "approve_workflow",
            "Approve a gate",
            "Approve the waiting approval gate of an execution.",
            "POST",
            f"{wf}/approve",
            _plain("approve_workflow"),
            read_only=False,
        ),
        Tool(
            "reject_workflow",
            "Reject a gate",
            "Reject the waiting approval gate of an execution.",
            "POST",
            f"{wf}/reject",
            _plain("reject_workflow"),
            read_only=False,
        ),
        Tool(
            "list_golden_paths",
            "List golden paths",
            "The golden paths, each with parameters_schema (JSON schema of its parameters).",
            "GET",
            "/api/golden-paths",
            _golden_paths,
        ),
        Tool(
            "get_golden_path",
            "Get a golden path",
            "One golden path with its parameters_schema.",
            "GET",
            "/api/golden-paths/{name}",
            _golden_path,
        ),
        Tool(
            "run_golden_path",
            "Run a golden path",
            "Start a golden path with parameters (validated server-side; each problem names the parameter).",
            "POST",
            "/api/golden-paths/{name}/execute",
            _plain("run_golden_path"),
            read_only=False,
        ),
        Tool(
            "list_resources",
            "List resources",
            "Provisioned resources of the caller's applications; filter by app, type, state, provider.",
            "GET",
            "/api/resources",
            _plain("list_resources"),
        ),
        Tool(
            "get_resource",
            "Get a resource",
            "One resource with its outputs (secrets masked) and state.",
            "GET",
            "/api/resources/{id}",
            _plain("get_resource"),
        ),
        Tool(
            "list_providers",
            "List providers",
            "Loaded providers with their resource types and workflows.",
            "GET",
            "/api/providers",
            _plain("list_providers"),
        ),
        Tool(
            "platform_stats",
            "Platform statistics",
            "Counts of applications, workflows and resources.",
            "GET",
            "/api/stats",
            _plain("platform_stats"),
        ),
        Tool(
            "reload_providers",
            "Reload providers (admin)",
            "Platform admins: reload provider definitions in every process.",
            "POST",
            "/api/admin/providers/reload",
            _plain("reload_providers"),
            read_only=False,
        ),
    ]
    return {tool.name: tool for tool in entries}


TOOLS: dict[str, Tool] = _tools()
