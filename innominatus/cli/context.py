"""The shared state of one invocation: which server, which token, and the client built from them."""

from __future__ import annotations

import click

from innominatus.cli.client import Client
from innominatus.cli.config import load_credentials


def server_override() -> str | None:
    ctx = click.get_current_context()
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    value = obj.get("server")
    return str(value) if value else None


def client() -> Client:
    """A client for the chosen server with the caller's token (INNOMINATUS_TOKEN or the stored key)."""
    server, token = load_credentials(server_override())
    return Client(server, token)
