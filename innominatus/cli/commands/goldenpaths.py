"""`golden-paths list|show|run NAME --param k=v [--wait]`."""

from __future__ import annotations

from typing import Any

import click

from innominatus.cli.commands.deploy import wait_for
from innominatus.cli.context import client
from innominatus.cli.errors import USAGE, CliError
from innominatus.cli.events import outcome
from innominatus.cli.output import console, details, emit, output_option, table


@click.group("golden-paths")
def golden_paths() -> None:
    """Golden paths: named, parameterised workflows published by the platform team."""


@golden_paths.command("list")
@output_option
def list_paths() -> None:
    """List the golden paths."""
    rows = list(client().paginate("/api/golden-paths"))
    columns = [("name", "Name"), ("category", "Category"), ("steps", "Steps"), ("description", "Description")]
    emit(rows, lambda data: table(data, columns))


@golden_paths.command("show")
@click.argument("name")
@output_option
def show_path(name: str) -> None:
    """Show a golden path and its parameters."""

    def show(data: dict[str, Any]) -> None:
        details(
            data,
            [
                ("name", "Name"),
                ("description", "Description"),
                ("category", "Category"),
                ("workflow", "Workflow"),
                ("steps", "Steps"),
                ("estimated_duration", "Takes about"),
            ],
        )
        columns = [
            ("name", "Parameter"),
            ("type", "Type"),
            ("required", "Required"),
            ("default", "Default"),
            ("description", "Description"),
        ]
        table(data.get("parameters") or [], columns, title="Parameters")

    emit(client().get(f"/api/golden-paths/{name}"), show)


def parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    """`k=v` pairs as a dict; the server converts and checks each value against the parameter's type."""
    parameters: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--param {pair!r}: expected NAME=VALUE", exit_code=USAGE)
        parameters[key.strip()] = value
    return parameters


@golden_paths.command("run")
@click.argument("name")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter (repeatable)."
)
@click.option("--team", help="Owning team of the run (needed when you are in several teams).")
@click.option("--wait", is_flag=True, help="Follow the run until it ends; exit 1 if it fails.")
@output_option
def run(name: str, params: tuple[str, ...], team: str | None, wait: bool) -> None:
    """Run the golden path NAME."""
    body: dict[str, Any] = {"parameters": parse_params(params)}
    if team:
        body["team"] = team
    execution = client().post(f"/api/golden-paths/{name}/execute", json=body)
    final = wait_for(execution["id"]) if wait else None

    def show(data: dict[str, Any]) -> None:
        if not wait:
            console.print(f"{name}: started {data['id']}")
            console.print(f"  follow it: innominatus-ctl workflows logs -f {data['id']}")

    emit(execution, show)
    if final is not None:
        outcome(final)


def register(cli: click.Group) -> None:
    cli.add_command(golden_paths)
