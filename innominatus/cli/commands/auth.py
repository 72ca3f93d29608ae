"""`login`, `logout`, `whoami`: a named API key per server, stored 0600 (innominatus.cli.config)."""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Any

import click
from rich.markup import escape

from innominatus.cli import config
from innominatus.cli.client import Client
from innominatus.cli.context import client, server_override
from innominatus.cli.errors import AUTH, ApiError, CliError
from innominatus.cli.output import console, details, emit, output_option


def default_key_name() -> str:
    host = socket.gethostname().split(".")[0][:40] or "host"
    return f"innominatus-ctl@{host}-{time.strftime('%Y%m%d-%H%M%S')}"


def _store(server: str, issued: dict[str, Any], username: str, method: str) -> None:
    path = config.save_credentials(
        server, token=issued["key"], username=username, key_name=issued["name"], method=method
    )
    console.print(
        f"Signed in to {server} as [bold]{username}[/bold]; API key [bold]{issued['name']}[/bold] "
        f"(expires {str(issued.get('expires_at', ''))[:10]}) stored in {path}"
    )


@click.command()
@click.option("-u", "--username", help="Local account name (asked when missing).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@click.option(
    "--name", "key_name", help="Name of the API key to create (default innominatus-ctl@<host>-<time>)."
)
@click.option(
    "--expiry-days", type=click.IntRange(1, 365), help="Lifetime of the key (server default if unset)."
)
@click.option("--sso", is_flag=True, help="Sign in with the server's single sign-on (browser, OIDC + PKCE).")
@click.option(
    "--no-browser", is_flag=True, help="With --sso: print the sign-in URL instead of opening a browser."
)
def login(
    username: str | None,
    password_stdin: bool,
    key_name: str | None,
    expiry_days: int | None,
    sso: bool,
    no_browser: bool,
) -> None:
    """Sign in and store a new named API key for this server.

    The username and password are exchanged for an API key (POST /api/auth/token, behind the same
    lock-out and throttle as the login page); only the key is stored, never the password.
    """
    server = config.resolve_server(server_override())
    body: dict[str, Any] = {"name": key_name or default_key_name()}
    if expiry_days:
        body["expiry_days"] = expiry_days
    if sso:
        from innominatus.cli.sso import sso_token

        token = sso_token(Client(server), open_browser=not no_browser)
        issued = Client(server, token).post("/api/auth/token", json=body)
        profile = Client(server, issued["key"]).get("/api/profile")
        _store(server, issued, profile["username"], "sso")
        return
    if not username:
        username = click.prompt("Username")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True)
    body.update({"username": username, "password": password})
    try:
        issued = Client(server).post("/api/auth/token", json=body, require_auth=False)
    except ApiError as error:
        if error.status == 401:
            raise CliError("invalid username or password", exit_code=AUTH) from None
        raise
    _store(server, issued, str(username), "password")


@click.command()
@click.option("--keep-key", is_flag=True, help="Only forget the key locally; do not revoke it on the server.")
def logout(keep_key: bool) -> None:
    """Revoke the stored API key on the server and forget it locally."""
    server = config.resolve_server(server_override())
    entry = config.stored_entry(server)
    if not entry:
        console.print(f"Not signed in to {server} (nothing stored).")
        return
    if not keep_key and entry.get("key_name"):
        try:
            Client(server, entry["token"]).delete(f"/api/profile/api-keys/{entry['key_name']}")
        except CliError as error:
            # The key may already be revoked or expired; forgetting it locally is still right.
            console.print(
                f"[yellow]note:[/yellow] the server did not revoke the key: {escape(error.message)}"
            )
    config.forget_credentials(server)
    console.print(f"Signed out of {server}.")
    if os.environ.get("INNOMINATUS_TOKEN"):
        console.print("[yellow]note:[/yellow] INNOMINATUS_TOKEN is still set in this environment.")


@click.command()
@output_option
def whoami() -> None:
    """Show who the current credentials sign in as: teams, roles, permissions."""
    api = client()
    profile = api.get("/api/profile")

    def show(data: dict[str, Any]) -> None:
        details(
            {**data, "server": api.server},
            [
                ("server", "Server"),
                ("username", "User"),
                ("email", "Email"),
                ("teams", "Teams"),
                ("roles", "Roles"),
                ("is_platform_admin", "Platform admin"),
                ("auth_method", "Signed in with"),
            ],
        )

    emit(profile, show)


def register(cli: click.Group) -> None:
    for command in (login, logout, whoami):
        cli.add_command(command)
