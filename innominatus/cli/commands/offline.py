"""`validate SPEC` and `render SPEC`: no server needed, the server's own ingest and renderer."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape

from innominatus.cli.commands.apps import manifests_yaml
from innominatus.cli.commands.deploy import read_spec
from innominatus.cli.errors import FAILED, CliError
from innominatus.cli.output import console, output_format

PROVISIONERS = click.option(
    "--provisioners",
    "provisioners",
    multiple=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="An extra provider directory (repeatable), as admin-config.yaml lists them on the server.",
)


@click.command("validate")
@click.argument("spec", metavar="SPEC")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@PROVISIONERS
def validate_command(spec: str, fmt: str, provisioners: tuple[Path, ...]) -> None:
    """Check a Score spec offline: every problem with its path, line and how to fix it (exit 1 if any)."""
    from innominatus.cli import offline
    from workflows.score import ScoreValidationError

    text, content_type = read_spec(spec)
    registry = offline.build_registry(provisioners)
    try:
        result = offline.validate(text, content_type, registry)
    except ScoreValidationError as exc:
        problems = [p.as_dict() for p in exc.problems]
        if fmt == "json":
            sys.stdout.write(json.dumps({"valid": False, "problems": problems}, indent=2) + "\n")
        else:
            for problem in exc.problems:
                where = problem.path or "(document)"
                line = f":{problem.line}" if problem.line else ""
                console.print(
                    f"{escape(spec)}{line}: {escape(where)}: {escape(problem.message)} [dim]({problem.code})[/dim]"
                )
            console.print(f"[red]✗[/red] {len(problems)} problem(s)")
        sys.exit(FAILED)
    if fmt == "json":
        body = {
            "valid": True,
            "name": result.name,
            "sha256": result.sha256,
            "resources": result.resource_order,
        }
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        resources = ", ".join(result.resource_order) or "none"
        console.print(f"[green]✓[/green] {escape(spec)}: {result.name} is valid (resources: {resources})")


@click.command("render")
@click.argument("spec", metavar="SPEC")
@PROVISIONERS
@click.option("--team", help="Owning team: the namespace becomes <team>-<app>, as the server names it.")
@click.option("--namespace", help="Render into this namespace instead.")
@click.option(
    "--revision", type=click.IntRange(1), default=1, show_default=True, help="Revision number to stamp."
)
@click.option(
    "-o", "--output", "fmt", type=click.Choice(["yaml", "json"]), help="Manifest format (default yaml)."
)
def render_command(
    spec: str,
    provisioners: tuple[Path, ...],
    team: str | None,
    namespace: str | None,
    revision: int,
    fmt: str | None,
) -> None:
    """Print the Kubernetes manifests the server would render for SPEC (like `score-k8s generate`).

    Resources do not exist offline: their outputs appear as <pending:…> text, as in a server dry run.
    """
    from innominatus.cli import offline
    from workflows.score import ScoreValidationError

    text, content_type = read_spec(spec)
    registry = offline.build_registry(provisioners)
    try:
        result = offline.validate(text, content_type, registry)
    except ScoreValidationError as exc:
        raise CliError(
            f"{spec} is not a valid Score spec (see `innominatus-ctl validate`)",
            lines=[str(p) for p in exc.problems],
        ) from None
    target = namespace or offline.namespace_for(result.name, team)
    manifests, problems = offline.render(result, registry, namespace=target, revision=revision)
    if problems:
        raise CliError(f"{spec} cannot be rendered", lines=problems)
    chosen = fmt or ("json" if output_format() == "json" else "yaml")
    if chosen == "json":
        sys.stdout.write(json.dumps(manifests, indent=2) + "\n")
    else:
        sys.stdout.write(manifests_yaml(manifests))


def register(cli: click.Group) -> None:
    cli.add_command(validate_command)
    cli.add_command(render_command)
