"""The MCP server on the official SDK's low-level `Server`: tools, resources and prompts.

Handlers are async (the SDK's contract) but do their work in Django's synchronous world through
`sync_to_async(thread_sensitive=True)`: under the WSGI bridge in http.py that is the request's own
thread, with its database connection and the audit context the middleware bound.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from typing import Any

import mcp_types as types
from asgiref.sync import sync_to_async
from jsonschema import Draft202012Validator
from mcp.server.lowlevel import Server

from innominatus.mcp import content
from innominatus.mcp.dispatch import Caller
from innominatus.mcp.recording import record_call
from innominatus.mcp.tools import TOOLS, ToolProblem

logger = logging.getLogger(__name__)

SERVER_NAME = "innominatus"
INSTRUCTIONS = (
    "innominatus is a platform orchestrator: Score specs in, provisioned resources and Kubernetes "
    "deployments out. You act as the user whose credentials you hold, with their role and teams. "
    "Validate and plan a spec before deploying it; deploy_spec needs the plan_id of plan_spec."
)

# The user the current MCP request authenticated as (set by the transport before the SDK runs).
current_caller: contextvars.ContextVar[Caller | None] = contextvars.ContextVar("mcp_caller", default=None)


def _caller() -> Caller:
    caller = current_caller.get()
    if caller is None:
        raise RuntimeError("MCP request without an authenticated caller")
    return caller


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=False, default=str)


def _argument_problems(schema: dict[str, Any], arguments: dict[str, Any]) -> list[dict[str, Any]]:
    problems = []
    for error in sorted(Draft202012Validator(schema).iter_errors(arguments), key=lambda e: list(e.path)):
        path = ".".join(str(part) for part in error.path)
        if error.validator == "required" or error.validator == "additionalProperties":
            path = path or "arguments"
        problems.append({"path": path or "arguments", "message": error.message, "code": str(error.validator)})
    return problems


def error_result(problem: ToolProblem) -> types.CallToolResult:
    """A tool error the model can read and act on: the detail, then each problem's path and message."""
    lines = [problem.detail]
    lines += [
        f"- {error.get('path') or '(document)'}: {error.get('message', '')}" for error in problem.errors
    ]
    return types.CallToolResult(
        content=[types.TextContent(text="\n".join(lines))],
        structured_content=problem.as_dict(),
        is_error=True,
    )


def run_tool(caller: Caller, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
    """Run one tool call synchronously, audit it and count it; never raises, never shows a traceback."""
    started = time.monotonic()
    tool = TOOLS.get(name)
    label = name if tool is not None else "unknown"
    try:
        if tool is None:
            raise ToolProblem(404, f"No tool named {name!r}.", [{"path": "name", "message": "unknown tool"}])
        problems = _argument_problems(tool.input_schema, arguments)
        if problems:
            raise ToolProblem(400, "The arguments are invalid; see errors.", problems)
        data = tool.run(caller, arguments)
    except ToolProblem as problem:
        record_call(
            caller,
            label,
            arguments,
            outcome="error",
            status=problem.status,
            detail=problem.detail,
            seconds=time.monotonic() - started,
        )
        return error_result(problem)
    except Exception:
        request_id = getattr(caller.request, "request_id", "") if caller.request is not None else ""
        logger.exception("MCP tool failed", extra={"tool": name, "request_id": request_id})
        fault = ToolProblem(
            500, f"An unexpected error occurred; it has been logged (request id {request_id})."
        )
        record_call(
            caller,
            label,
            arguments,
            outcome="fault",
            status=500,
            detail=fault.detail,
            seconds=time.monotonic() - started,
        )
        return error_result(fault)
    record_call(
        caller, label, arguments, outcome="ok", status=200, data=data, seconds=time.monotonic() - started
    )
    structured = data if isinstance(data, dict) else {"result": data}
    return types.CallToolResult(
        content=[types.TextContent(text=_json_text(data))], structured_content=structured
    )


def list_tools_for(caller: Caller) -> list[types.Tool]:
    """The tools the caller's role may use (a call to any other is refused as the API refuses it)."""
    found = []
    for tool in TOOLS.values():
        if not tool.allowed(caller.user):
            continue
        found.append(
            types.Tool(
                name=tool.name,
                title=tool.title,
                description=tool.description,
                input_schema=tool.input_schema,
                annotations=types.ToolAnnotations(
                    title=tool.title, read_only_hint=tool.read_only, destructive_hint=not tool.read_only
                ),
            )
        )
    return found


async def _list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    tools = await sync_to_async(list_tools_for, thread_sensitive=True)(_caller())
    return types.ListToolsResult(tools=tools)


async def _call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    arguments = dict(params.arguments or {})
    return await sync_to_async(run_tool, thread_sensitive=True)(_caller(), params.name, arguments)


async def _list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
    found = await sync_to_async(content.list_resources, thread_sensitive=True)(_caller())
    return types.ListResourcesResult(
        resources=[
            types.Resource(
                uri=r.uri, name=r.name, title=r.title, description=r.description, mime_type=r.mime_type
            )
            for r in found
        ]
    )


async def _read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    uri = str(params.uri)
    try:
        text, mime = await sync_to_async(content.read_resource, thread_sensitive=True)(_caller(), uri)
    except ToolProblem as problem:
        from mcp.shared.exceptions import MCPError

        raise MCPError(
            code=types.INVALID_PARAMS, message=f"{problem.detail} (status {problem.status})"
        ) from None
    return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)])


async def _list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
    prompts = [
        types.Prompt(
            name=name,
            title=prompt["title"],
            description=prompt["description"],
            arguments=[
                types.PromptArgument(name=a, description=d, required=r) for a, d, r in prompt["arguments"]
            ],
        )
        for name, prompt in content.PROMPTS.items()
    ]
    return types.ListPromptsResult(prompts=prompts)


async def _get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    try:
        description, text = content.render_prompt(params.name, dict(params.arguments or {}))
    except ToolProblem as problem:
        from mcp.shared.exceptions import MCPError

        raise MCPError(code=types.INVALID_PARAMS, message=problem.detail) from None
    return types.GetPromptResult(
        description=description,
        messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))],
    )


def build_server() -> Server[Any]:
    """The MCP server (stateless: it keeps nothing between requests)."""
    from innominatus import __version__

    return Server(
        SERVER_NAME,
        version=str(__version__),
        instructions=INSTRUCTIONS,
        on_list_tools=_list_tools,
        on_call_tool=_call_tool,
        on_list_resources=_list_resources,
        on_read_resource=_read_resource,
        on_list_prompts=_list_prompts,
        on_get_prompt=_get_prompt,
    )
