"""`apps list|show|delete|rollback|diff|manifests`."""

from __future__ import annotations

from typing import Any

import click
import yaml
from rich.syntax import Syntax

from innominatus.cli.commands.deploy import wait_for
from innominatus.cli.context import client
from innominatus.cli.errors import CliError
from innominatus.cli.events import outcome
from innominatus.cli.output import console, details, emit, output_format, output_option, table

APP_COLUMNS = [
    ("name", "Name"),
    ("team", "Team"),
    ("current_revision.number", "Revision"),
    ("deploy_state", "State"),
    ("updated_at", "Updated"),
]


@click.group()
def apps() -> None:
    """Applications: list, inspect, diff revisions, roll back, delete."""


@apps.command("list")
@click.option("--team", help="Only this team's applications.")
@click.option("--search", help="Name contains this text.")
@click.option("--limit", type=click.IntRange(1), default=500, show_default=True, help="At most this many.")
@output_option
def list_apps(team: str | None, search: str | None, limit: int) -> None:
    """List the applications you may see."""
    rows = list(client().paginate("/api/applications", {"team": team, "search": search}, limit=limit))
    emit(rows, lambda data: table(data, APP_COLUMNS))


@apps.command("show")
@click.argument("name")
@output_option
def show_app(name: str) -> None:
    """Show an application with its current spec."""
    data = client().get(f"/api/applications/{name}")

    def show(app: dict[str, Any]) -> None:
        details(
            app,
            [
                *APP_COLUMNS,
                ("deploy_message", "Message"),
                ("revision_count", "Revisions"),
                ("created_by", "Created by"),
                ("created_at", "Created"),
            ],
        )
        if app.get("spec"):
            console.print("Spec:")
            console.print(
                Syntax(yaml.safe_dump(app["spec"], sort_keys=False), "yaml", background_color="default")
            )

    emit(data, show)


@apps.command("delete")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_app(name: str, yes: bool) -> None:
    """Delete an application, its workload and resources."""
    if not yes:
        click.confirm(f"Delete application {name} with its workload and resources?", abort=True)
    client().delete(f"/api/applications/{name}")
    console.print(f"{name}: deletion requested.")


@apps.command("rollback")
@click.argument("name")
@click.option("--to", "revision", type=click.IntRange(1), required=True, help="Revision to deploy again.")
@click.option("--wait", is_flag=True, help="Follow the deploy until it ends; exit 1 if it fails.")
@output_option
def rollback(name: str, revision: int, wait: bool) -> None:
    """Deploy an earlier revision's spec again, as a new revision."""
    answer = client().post(f"/api/applications/{name}/rollback", json={"revision": revision})
    final = wait_for(answer["execution"]) if wait else None

    def show(data: dict[str, Any]) -> None:
        if not wait:
            console.print(
                f"{name}: revision {data['revision']['number']} (from {revision}) deploying as {data['execution']}"
            )

    emit(answer, show)
    if final is not None:
        outcome(final)


@apps.command("diff")
@click.argument("name")
@click.argument("from_revision", type=click.IntRange(1), required=False)
@click.argument("to_revision", type=click.IntRange(1), required=False)
@output_option
def diff(name: str, from_revision: int | None, to_revision: int | None) -> None:
    """Diff two revisions (default: the current one against its predecessor)."""
    api = client()
    if to_revision is None:
        current = (api.get(f"/api/applications/{name}").get("current_revision") or {}).get("number")
        if not current:
            raise CliError(f"{name} has no revision yet")
        to_revision = int(current)
    if from_revision is None:
        from_revision = to_revision - 1
        if from_revision < 1:
            raise CliError(f"{name} has only revision {to_revision}; nothing to compare with")
    data = api.get(f"/api/applications/{name}/revisions/{from_revision}/diff/{to_revision}")

    def show(answer: dict[str, Any]) -> None:
        if not answer.get("unified"):
            console.print(f"Revisions {from_revision} and {to_revision} are identical.")
            return
        console.print(Syntax(answer["unified"], "diff", theme="ansi_dark", background_color="default"))

    emit(data, show)


def manifests_yaml(manifests: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml.safe_dump(item, sort_keys=False) for item in manifests)


@apps.command("manifests")
@click.argument("name")
@click.option("--revision", type=click.IntRange(1), help="The deploy of this revision (default: the latest).")
@output_option
def manifests(name: str, revision: int | None) -> None:
    """Print the Kubernetes manifests of the latest deploy (Secret values masked) as YAML."""
    params = {"revision": revision} if revision else None
    data = client().get(f"/api/applications/{name}/manifests", params=params)
    if output_format() == "json":
        emit(data["manifests"], lambda _: None)
    else:
        click.echo(manifests_yaml(data["manifests"]), nl=False)


def register(cli: click.Group) -> None:
    cli.add_command(apps)
