"""The stdio transport for desktop agents: a local MCP server that forwards every request to /mcp.

The tools, resources and prompts are implemented once, on the server; this process only relays them
with the user's credentials (an API key or OIDC token as `Authorization: Bearer`), so a desktop agent
gets exactly the user's role, teams, throttles and audit trail. It imports no Django.

Run it as `innominatus-ctl mcp` or `python -m innominatus.mcp.stdio --server URL` (the token from
INNOMINATUS_TOKEN, the URL also from INNOMINATUS_URL).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT
from mcp.shared.exceptions import MCPError

SERVER_NAME = "innominatus"


def endpoint(server_url: str) -> str:
    """The /mcp endpoint of a server given by its base URL (or already by the endpoint)."""
    url = server_url.rstrip("/")
    return url if url.endswith("/mcp") else f"{url}/mcp"


def _proxy_server(remote: Client) -> Server[Any]:
    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return await remote.list_tools()

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        try:
            return await remote.call_tool(params.name, dict(params.arguments or {}))
        except MCPError as exc:
            # The server refused at the protocol level: still a tool error the model can read.
            return types.CallToolResult(content=[types.TextContent(text=exc.error.message)], is_error=True)

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        return await remote.list_resources()

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        return await remote.read_resource(str(params.uri))

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        return await remote.list_prompts()

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        return await remote.get_prompt(params.name, dict(params.arguments or {}))

    return Server(
        SERVER_NAME,
        instructions=remote.instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )


class _NotingTransport(httpx2.AsyncHTTPTransport):
    """Keeps the status of refused requests: the SDK reports them only as "an error response"."""

    def __init__(self, refusals: list[int]) -> None:
        super().__init__()
        self.refusals = refusals

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        if response.status_code >= 400:
            self.refusals.append(response.status_code)
        return response


_HINTS = {
    401: "the server refused the credentials: log in again (innominatus-ctl login) or set INNOMINATUS_TOKEN",
    403: "the credentials are valid but may not use MCP",
    404: "no MCP endpoint there: check the server URL",
    429: "rate limited: try again shortly",
}


async def serve(server_url: str, token: str, refusals: list[int] | None = None) -> None:
    """Relay MCP between this process's stdin/stdout and the server's /mcp endpoint."""
    http = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT),
        transport=_NotingTransport(refusals if refusals is not None else []),
    )
    # No client-side cache: every answer reflects the server's current state and the user's rights.
    transport = streamable_http_client(endpoint(server_url), http_client=http)
    async with http, Client(transport, cache=None) as remote:
        server = _proxy_server(remote)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


def run_stdio(server_url: str, token: str) -> None:
    """Serve MCP on stdin/stdout for a desktop agent, acting with `token` on the server at `server_url`."""
    if not token:
        raise SystemExit("no credentials: log in first (innominatus-ctl login) or set INNOMINATUS_TOKEN")
    refusals: list[int] = []
    try:
        anyio.run(serve, server_url, token, refusals)
    except Exception as exc:
        # A desktop agent shows stderr to the user: one line that says what failed, not a traceback.
        message = f"innominatus MCP relay to {endpoint(server_url)} failed: {_root_cause(exc)}"
        if refusals:
            status = refusals[-1]
            message += f" (HTTP {status}: {_HINTS.get(status, 'see the server log')})"
        raise SystemExit(message) from None


def _root_cause(exc: BaseException) -> str:
    """The innermost error of an exception group (anyio wraps task failures), as one line."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, MCPError):
        return exc.error.message
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m innominatus.mcp.stdio", description=__doc__)
    parser.add_argument("--server", default=os.environ.get("INNOMINATUS_URL", ""), help="Server base URL.")
    args = parser.parse_args(argv)
    if not args.server:
        parser.error("--server or INNOMINATUS_URL is required")
    try:
        run_stdio(args.server, os.environ.get("INNOMINATUS_TOKEN", ""))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
