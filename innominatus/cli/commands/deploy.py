"""`deploy SPEC`: submit a Score spec; `--dry-run` shows the plan and manifest diff, `--wait` follows it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.syntax import Syntax

from innominatus.cli.context import client
from innominatus.cli.errors import CliError
from innominatus.cli.events import follow_execution, outcome
from innominatus.cli.output import console, emit, err_console, output_format, output_option, table


def read_spec(spec: str) -> tuple[str, str]:
    """(text, content type) of a spec file, or of standard input for `-`."""
    if spec == "-":
        return sys.stdin.read(), "application/yaml"
    path = Path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{spec}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{spec}: cannot read: {exc}") from None
    content_type = "application/json" if path.suffix.lower() == ".json" else "application/yaml"
    return text, content_type


def show_plan(answer: dict[str, Any]) -> None:
    plan = answer["plan"]
    state = "exists" if plan["exists"] else "new"
    console.print(
        f"Application [bold]{plan['application']}[/bold] (team {plan['team']}, {state}); "
        f"revision {plan['current_revision'] or '-'} → {plan['next_revision'] or '-'}"
        + ("" if plan["changed"] else " [dim](no change)[/dim]")
    )
    deployment = answer.get("deployment") or {}
    providers = {r["name"]: r.get("provider", "") for r in deployment.get("resources") or []}
    rows = [{**r, "provider": providers.get(r["name"], "")} for r in plan["resources"]]
    table(
        rows,
        [
            ("name", "Resource"),
            ("type", "Type"),
            ("class", "Class"),
            ("action", "Action"),
            ("provider", "Provider"),
        ],
        title="Resources",
    )
    if deployment.get("namespace"):
        console.print(f"Namespace: {deployment['namespace']}")
    for problem in deployment.get("problems") or []:
        console.print(f"[yellow]render problem:[/yellow] {escape(problem)}", markup=True)
    diff = deployment.get("manifest_diff") or ""
    if diff:
        console.print("Manifest diff:")
        console.print(Syntax(diff, "diff", theme="ansi_dark", background_color="default"))
    elif deployment:
        console.print("Manifests: no change against what is deployed.")


def wait_for(execution_id: str, *, quiet: bool = False) -> dict[str, Any]:
    """Follow an execution with per-step progress; CliError (exit 1) with the step's error on failure."""
    api = client()
    screen = err_console if output_format() in ("json", "yaml") else console

    def started(detail: dict[str, Any], how: str) -> None:
        if not quiet:
            total = len(detail.get("steps") or [])
            screen.print(f"Following {detail['id']} ({detail['workflow_name']}, {total} steps) via {how}")

    final = follow_execution(api, execution_id, screen, progress=not quiet, on_start=started)
    if final["status"] == "completed":
        duration = final.get("duration_seconds")
        took = f" in {duration:.1f}s" if duration is not None else ""
        screen.print(f"[green]✓[/green] {final['id']} completed{took}")
    return final


@click.command()
@click.argument("spec", metavar="SPEC")
@click.option("--team", help="Owning team of a new application (needed when you are in several teams).")
@click.option("--dry-run", is_flag=True, help="Validate and plan only: resources, manifests and their diff.")
@click.option("--wait", is_flag=True, help="Follow the deploy until it ends; exit 1 if it fails.")
@click.option("-m", "--comment", default="", help="Revision comment.")
@output_option
def deploy(spec: str, team: str | None, dry_run: bool, wait: bool, comment: str) -> None:
    """Submit the Score spec SPEC (a file, or - for standard input) and deploy it."""
    text, content_type = read_spec(spec)
    params: dict[str, Any] = {"dry_run": "true" if dry_run else "false"}
    if team:
        params["team"] = team
    if comment:
        params["comment"] = comment
    answer = client().post(
        "/api/applications",
        params=params,
        data=text.encode("utf-8"),
        headers={"Content-Type": content_type},
    )
    if dry_run:
        emit(answer, show_plan)
        return
    execution = answer.get("execution")
    final = wait_for(execution) if wait and execution else None

    def show(data: dict[str, Any]) -> None:
        revision = (data.get("revision") or {}).get("number")
        name = data["plan"]["application"]
        if not data["created"]:
            console.print(f"{name}: no change; revision {revision} is current.")
        elif not wait:
            console.print(f"{name}: revision {revision} submitted; deploying as {execution}")
            if execution:
                console.print(f"  follow it: innominatus-ctl workflows logs -f {execution}")

    emit({**answer, "execution_detail": final} if final else answer, show)
    if final is not None:
        outcome(final)


def register(cli: click.Group) -> None:
    cli.add_command(deploy)
