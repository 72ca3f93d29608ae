"""`mcp`: serve the Model Context Protocol on stdin/stdout for a desktop agent (see docs/mcp.md)."""

from __future__ import annotations

import click

from innominatus.cli.config import load_credentials
from innominatus.cli.context import server_override
from innominatus.cli.errors import AUTH, CliError


@click.command()
def mcp() -> None:
    """Run an MCP server on stdio that acts on the server with your credentials.

    Every tool runs on the server (POST /mcp), so roles, team scoping and the audit trail are the API's.
    """
    server, token = load_credentials(server_override())
    if not token:
        raise CliError("not signed in: run `innominatus-ctl login` or set INNOMINATUS_TOKEN", exit_code=AUTH)
    # Imported here: the SDK is only needed by this command, and loading it slows every other one.
    from innominatus.mcp.stdio import run_stdio

    run_stdio(server, token)


def register(cli: click.Group) -> None:
    cli.add_command(mcp)
