"""`stats`, `api-keys list|create|revoke`, `graph APP|WF`, `completion bash|zsh|fish`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from click.shell_completion import get_completion_class

from innominatus.cli.context import client
from innominatus.cli.errors import ApiError, CliError
from innominatus.cli.output import console, details, emit, output_option, table


@click.command()
@output_option
def stats() -> None:
    """Counts of applications, executions and resources you may see."""

    def show(data: dict[str, Any]) -> None:
        details(
            data,
            [
                ("applications", "Applications"),
                ("executions", "Executions"),
                ("executions_by_status", "  by status"),
                ("resources", "Resources"),
                ("resources_by_state", "  by state"),
                ("steps_running", "Steps running"),
                ("steps_waiting", "Steps waiting"),
            ],
        )

    emit(client().get("/api/stats"), show)


@click.group("api-keys")
def api_keys() -> None:
    """Your API keys (creating one needs a password or SSO sign-in, not an API key)."""


@api_keys.command("list")
@output_option
def list_keys() -> None:
    """List your API keys (masked)."""
    rows = list(client().paginate("/api/profile/api-keys"))
    columns = [
        ("name", "Name"),
        ("masked_key", "Key"),
        ("status", "Status"),
        ("expires_at", "Expires"),
        ("last_used_at", "Last used"),
    ]
    emit(rows, lambda data: table(data, columns))


@api_keys.command("create")
@click.argument("name")
@click.option("--expiry-days", type=click.IntRange(1, 365), help="Lifetime (server default if unset).")
@output_option
def create_key(name: str, expiry_days: int | None) -> None:
    """Create an API key NAME; the key is printed once."""
    body: dict[str, Any] = {"name": name}
    if expiry_days:
        body["expiry_days"] = expiry_days
    created = client().post("/api/profile/api-keys", json=body)

    def show(data: dict[str, Any]) -> None:
        console.print(f"API key [bold]{data['name']}[/bold] (expires {str(data['expires_at'])[:10]}):")
        console.print(data["key"], markup=False)
        console.print("[dim]It is shown only now: store it safely.[/dim]")

    emit(created, show)


@api_keys.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke your API key NAME."""
    client().delete(f"/api/profile/api-keys/{name}")
    console.print(f"API key {name} revoked.")


@click.command()
@click.argument("target", metavar="APP|WF")
@click.option("--format", "fmt", type=click.Choice(["dot", "svg", "json"]), default="dot", show_default=True)
@click.option(
    "-f", "--file", "path", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file."
)
def graph(target: str, fmt: str, path: Path | None) -> None:
    """Export the graph of an application (APP) or of a workflow execution (wf-…) as DOT, SVG or JSON."""
    kind = "workflows" if target.startswith("wf-") else "applications"
    try:
        response = client().request("GET", f"/api/{kind}/{target}/graph", params={"format": fmt})
    except ApiError as error:
        if error.status == 404 and "No such endpoint" in str(error.problem.get("detail", "")):
            raise CliError(
                "this server has no graph export (GET /api/…/graph)", exit_code=error.exit_code
            ) from None
        raise
    if path is not None:
        path.write_bytes(response.content)
        console.print(f"Wrote {path} ({len(response.content)} bytes)")
    else:
        sys.stdout.write(response.text if response.text.endswith("\n") else response.text + "\n")


@click.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the shell completion script, e.g. `source <(innominatus-ctl completion bash)`."""
    completion_class = get_completion_class(shell)
    assert completion_class is not None
    root = ctx.find_root().command
    script = completion_class(root, {}, "innominatus-ctl", "_INNOMINATUS_CTL_COMPLETE").source()
    sys.stdout.write(script)


def register(cli: click.Group) -> None:
    for command in (stats, api_keys, graph, completion):
        cli.add_command(command)


__all__ = ["register", "table"]
