"""Where the command line finds its server and credentials.

Precedence: `--server` / INNOMINATUS_URL / the credentials file's current server / localhost; the
token comes from INNOMINATUS_TOKEN, else from the credentials file entry of that server. The file,
`$XDG_CONFIG_HOME/innominatus/credentials.json` (default ~/.config), is written with mode 0600 in a
0700 directory because it holds API keys.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEFAULT_SERVER = "http://localhost:8081"
FILE_NAME = "credentials.json"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "innominatus"


def credentials_path() -> Path:
    return config_dir() / FILE_NAME


def _read() -> dict[str, Any]:
    try:
        data = json.loads(credentials_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(data: dict[str, Any]) -> None:
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = credentials_path()
    temporary = path.with_suffix(".tmp")
    # Created 0600 from the start: the key is never readable by others, not even for a moment.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def normalise_server(url: str) -> str:
    url = url.strip().rstrip("/")
    if url and "://" not in url:
        url = "http://" + url
    return url


def resolve_server(override: str | None = None) -> str:
    """The server to talk to (without a trailing slash)."""
    chosen = override or os.environ.get("INNOMINATUS_URL") or _read().get("current") or DEFAULT_SERVER
    return normalise_server(str(chosen))


def stored_entry(server: str) -> dict[str, Any]:
    """The credentials file's entry for `server` ({} when there is none)."""
    entry = (_read().get("servers") or {}).get(normalise_server(server))
    return entry if isinstance(entry, dict) else {}


def load_credentials(server_override: str | None = None) -> tuple[str, str | None]:
    """(server URL, token or None): INNOMINATUS_TOKEN wins over the stored key of that server."""
    server = resolve_server(server_override)
    token = os.environ.get("INNOMINATUS_TOKEN") or stored_entry(server).get("token")
    return server, (str(token) if token else None)


def _servers(data: dict[str, Any]) -> dict[str, Any]:
    servers = data.get("servers")
    return dict(servers) if isinstance(servers, dict) else {}


def save_credentials(server: str, *, token: str, username: str, key_name: str, method: str) -> Path:
    """Remember the key for `server` and make it the current server."""
    data = _read()
    server = normalise_server(server)
    servers = _servers(data)
    servers[server] = {"token": token, "username": username, "key_name": key_name, "method": method}
    _write({"current": server, "servers": servers})
    return credentials_path()


def forget_credentials(server: str) -> dict[str, Any]:
    """Remove `server`'s entry; returns what was stored ({} when nothing was)."""
    data = _read()
    server = normalise_server(server)
    servers = _servers(data)
    removed = servers.pop(server, None) or {}
    current = data.get("current")
    if current == server:
        current = next(iter(servers), None)
    _write({"current": current, "servers": servers} if current else {"servers": servers})
    return removed
