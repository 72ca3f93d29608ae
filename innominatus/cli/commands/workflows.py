"""`workflows list|show|logs [-f] [--step]|retry|cancel|approve|reject`."""

from __future__ import annotations

from typing import Any

import click

from innominatus.cli.commands.deploy import wait_for
from innominatus.cli.context import client
from innominatus.cli.events import follow_execution, outcome, print_log_lines
from innominatus.cli.output import console, details, emit, output_option, status_text, table

EXECUTION_COLUMNS = [
    ("id", "ID"),
    ("app_name", "Application"),
    ("workflow_name", "Workflow"),
    ("status", "Status"),
    ("steps_finished", "Done"),
    ("steps_total", "Steps"),
    ("created_at", "Created"),
]
STEP_COLUMNS = [
    ("position", "#"),
    ("name", "Step"),
    ("type", "Type"),
    ("status", "Status"),
    ("attempt", "Attempt"),
    ("duration_seconds", "Seconds"),
    ("error_message", "Error"),
]


@click.group()
def workflows() -> None:
    """Workflow executions: list, inspect, follow logs, retry, cancel, approve or reject gates."""


@workflows.command("list")
@click.option("--app", help="Only this application's executions.")
@click.option(
    "--status", help="Only these statuses (comma list: pending,running,waiting,completed,failed,cancelled)."
)
@click.option("--workflow", "workflow_name", help="Only this workflow name.")
@click.option(
    "--limit", type=click.IntRange(1), default=50, show_default=True, help="At most this many (newest first)."
)
@output_option
def list_executions(app: str | None, status: str | None, workflow_name: str | None, limit: int) -> None:
    """List workflow executions, newest first."""
    query = {"app": app, "status": status, "workflow_name": workflow_name}
    rows = list(client().paginate("/api/workflows", query, limit=limit))
    emit(rows, lambda data: table(data, EXECUTION_COLUMNS))


def show_execution(detail: dict[str, Any]) -> None:
    details(
        {**detail, "status": detail["status"]},
        [
            ("id", "ID"),
            ("app_name", "Application"),
            ("workflow_name", "Workflow"),
            ("status", "Status"),
            ("trigger", "Trigger"),
            ("triggered_by", "By"),
            ("revision", "Revision"),
            ("retry_of", "Retry of"),
            ("error_message", "Error"),
            ("created_at", "Created"),
            ("duration_seconds", "Seconds"),
        ],
    )
    table(detail.get("steps") or [], STEP_COLUMNS, title="Steps")


@workflows.command("show")
@click.argument("execution_id", metavar="WF_ID")
@output_option
def show(execution_id: str) -> None:
    """Show an execution with its steps."""
    emit(client().get(f"/api/workflows/{execution_id}"), show_execution)


@workflows.command("logs")
@click.argument("execution_id", metavar="WF_ID")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until the execution ends.")
@click.option("--step", help="Only the lines of this step.")
def logs(execution_id: str, follow: bool, step: str | None) -> None:
    """Print an execution's log (with -f: follow it; exits 1 if the execution fails)."""
    api = client()
    if follow:
        final = follow_execution(api, execution_id, console, progress=False, logs=True, step=step)
        console.print(f"[dim]{execution_id} {status_text(final['status'])}[/dim]")
        outcome(final)
        return
    after = 0
    while True:
        params: dict[str, Any] = {"after": after, "limit": 1000}
        if step:
            params["step"] = step
        page = api.get(f"/api/workflows/{execution_id}/logs", params=params)
        print_log_lines(console, page["lines"], with_step=not step)
        after = int(page["next_after"])
        if len(page["lines"]) < 1000:
            return


def _after_action(detail: dict[str, Any], verb: str, wait: bool) -> None:
    final = wait_for(detail["id"]) if wait else None

    def people(data: dict[str, Any]) -> None:
        if not wait:
            console.print(f"{data['id']}: {verb}; status {status_text(data['status'])}")

    emit(detail, people)
    if final is not None:
        outcome(final)


@workflows.command("retry")
@click.argument("execution_id", metavar="WF_ID")
@click.option("--wait", is_flag=True, help="Follow the new execution; exit 1 if it fails.")
@output_option
def retry(execution_id: str, wait: bool) -> None:
    """Retry a failed or cancelled execution (completed steps are reused)."""
    _after_action(client().post(f"/api/workflows/{execution_id}/retry"), f"retry of {execution_id}", wait)


@workflows.command("cancel")
@click.argument("execution_id", metavar="WF_ID")
@click.option("--reason", default="", help="Why (kept with the execution).")
@output_option
def cancel(execution_id: str, reason: str) -> None:
    """Cancel an execution (running steps stop within a second)."""
    detail = client().post(f"/api/workflows/{execution_id}/cancel", json={"comment": reason})
    _after_action(detail, "cancelled", False)


def _decide(verb: str, execution_id: str, step: str | None, comment: str, wait: bool) -> None:
    body = {"step": step or "", "comment": comment}
    detail = client().post(f"/api/workflows/{execution_id}/{verb}", json=body)
    _after_action(detail, f"{verb}d" if verb.endswith("e") else f"{verb}ed", wait)


@workflows.command("approve")
@click.argument("execution_id", metavar="WF_ID")
@click.argument("step", required=False)
@click.option("-m", "--comment", default="", help="Comment kept with the decision.")
@click.option("--wait", is_flag=True, help="Then follow the execution; exit 1 if it fails.")
@output_option
def approve(execution_id: str, step: str | None, comment: str, wait: bool) -> None:
    """Approve a waiting gate (STEP, default: the first waiting one)."""
    _decide("approve", execution_id, step, comment, wait)


@workflows.command("reject")
@click.argument("execution_id", metavar="WF_ID")
@click.argument("step", required=False)
@click.option("-m", "--comment", default="", help="Comment kept with the decision.")
@output_option
def reject(execution_id: str, step: str | None, comment: str) -> None:
    """Reject a waiting gate (STEP, default: the first waiting one)."""
    _decide("reject", execution_id, step, comment, False)


def register(cli: click.Group) -> None:
    cli.add_command(workflows)
