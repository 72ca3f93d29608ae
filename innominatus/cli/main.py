"""The `innominatus-ctl` command group: global options, command registration and the error handler.

Every user error ends in a one-line message (plus `path: message` lines for problem+json field
errors) and a documented exit code; a Python traceback is shown only with INNOMINATUS_DEBUG=1.
"""

from __future__ import annotations

import os
from typing import Any

import click
from rich.markup import escape

from innominatus.cli import errors
from innominatus.cli.commands import (
    apps,
    auth,
    deploy,
    goldenpaths,
    mcp,
    misc,
    offline,
    providers,
    resources,
    workflows,
)
from innominatus.cli.output import FORMATS, err_console


def _report(error: errors.CliError) -> None:
    err_console.print(f"[bold red]error:[/bold red] {escape(error.message)}", markup=True, highlight=False)
    for line in error.lines:
        err_console.print(f"  {line}", markup=False, highlight=False)


class CliGroup(click.Group):
    """The root group: turns CliError, interrupts and unexpected faults into messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except errors.CliError as error:
            _report(error)
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            err_console.print("interrupted")
            ctx.exit(errors.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("INNOMINATUS_DEBUG"):
                raise
            err_console.print(
                f"[bold red]internal error:[/bold red] {type(exc).__name__}: {escape(str(exc))}\n"
                "  (set INNOMINATUS_DEBUG=1 to see the traceback, and please report it)",
                markup=True,
                highlight=False,
            )
            ctx.exit(70)


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--server",
    metavar="URL",
    help="innominatus server (default: INNOMINATUS_URL, the server you logged in to, http://localhost:8081).",
)
@click.option("-o", "--output", type=click.Choice(FORMATS), help="Output format for every command.")
@click.version_option("0.1.0", prog_name="innominatus-ctl")
@click.pass_context
def cli(ctx: click.Context, server: str | None, output: str | None) -> None:
    """innominatus-ctl: deploy Score specs, follow workflows and manage an innominatus platform.

    Exit codes: 0 success, 1 the work failed (execution failed, spec invalid), 2 wrong usage,
    3 the server refused the request, 4 not signed in or credentials rejected, 5 server unreachable
    or failing, 130 interrupted. See docs/cli.md.
    """
    ctx.ensure_object(dict)
    if server:
        ctx.obj["server"] = server
    if output:
        ctx.obj["output"] = output


for module in (auth, deploy, apps, workflows, goldenpaths, resources, providers, misc, offline, mcp):
    module.register(cli)


def main() -> None:  # pragma: no cover - the console script calls cli() directly
    cli(prog_name="innominatus-ctl")


if __name__ == "__main__":  # pragma: no cover
    main()
