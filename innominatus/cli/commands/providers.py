"""`providers list|reload|validate DIR` (validate runs offline, with the server's loader)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from innominatus.cli.context import client
from innominatus.cli.errors import CliError
from innominatus.cli.output import console, emit, output_option, table


@click.group()
def providers() -> None:
    """Providers: what serves each resource type."""


@providers.command("list")
@output_option
def list_providers() -> None:
    """List the loaded providers."""
    rows = list(client().paginate("/api/providers"))
    columns = [
        ("name", "Name"),
        ("version", "Version"),
        ("category", "Category"),
        ("builtin", "Built-in"),
        ("resource_types", "Types"),
    ]
    emit(rows, lambda data: table(data, columns))


@providers.command("reload")
@output_option
def reload() -> None:
    """Reload providers on every replica (platform admins); nothing changes if one is broken."""
    answer = client().post("/api/admin/providers/reload")

    def show(data: dict[str, Any]) -> None:
        console.print(
            f"Reloaded (generation {data['generation']}): {', '.join(data['providers'])}; "
            f"types: {', '.join(data['resource_types'])}"
        )

    emit(answer, show)


@providers.command("validate")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@output_option
def validate(directory: Path) -> None:
    """Check a provider directory offline, with the loader the server uses."""
    from innominatus.cli.offline import check_provider

    provider, problem = check_provider(directory)
    if problem:
        raise CliError(f"{directory}: provider is invalid", lines=problem.splitlines())
    assert provider is not None
    summary = provider.to_dict()

    def show(data: dict[str, Any]) -> None:
        console.print(
            f"[green]✓[/green] {data['name']} {data['version']}: types {', '.join(data['resource_types'])}; "
            f"{len(data['workflows'])} workflows"
        )

    emit(summary, show)


def register(cli: click.Group) -> None:
    cli.add_command(providers)
