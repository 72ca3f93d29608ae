"""`resources list|show`."""

from __future__ import annotations

from typing import Any

import click

from innominatus.cli.context import client
from innominatus.cli.output import details, emit, output_option, table

RESOURCE_COLUMNS = [
    ("id", "ID"),
    ("app_name", "Application"),
    ("resource_name", "Name"),
    ("resource_type", "Type"),
    ("state", "State"),
    ("provider", "Provider"),
    ("updated_at", "Updated"),
]


@click.group()
def resources() -> None:
    """Provisioned resources."""


@resources.command("list")
@click.option("--app", help="Only this application's resources.")
@click.option("--type", "resource_type", help="Only this resource type.")
@click.option("--state", help="Only these states (comma list).")
@click.option("--limit", type=click.IntRange(1), default=500, show_default=True, help="At most this many.")
@output_option
def list_resources(app: str | None, resource_type: str | None, state: str | None, limit: int) -> None:
    """List resources you may see."""
    query = {"app": app, "type": resource_type, "state": state}
    rows = list(client().paginate("/api/resources", query, limit=limit))
    emit(rows, lambda data: table(data, RESOURCE_COLUMNS))


@resources.command("show")
@click.argument("resource_id", type=int, metavar="ID")
@output_option
def show_resource(resource_id: int) -> None:
    """Show a resource with its outputs (secrets excluded) and state history."""

    def show(data: dict[str, Any]) -> None:
        details(
            data,
            [
                *RESOURCE_COLUMNS,
                ("resource_class", "Class"),
                ("resource_id", "Resource ID"),
                ("kind", "Kind"),
                ("outputs", "Outputs"),
                ("reference_url", "Console"),
                ("error_message", "Error"),
            ],
        )
        columns = [("created_at", "When"), ("from_state", "From"), ("to_state", "To"), ("reason", "Reason")]
        table(data.get("transitions") or [], columns, title="History")

    emit(client().get(f"/api/resources/{resource_id}"), show)


def register(cli: click.Group) -> None:
    cli.add_command(resources)
