"""A libpq password file with the password the application resolved, so that `psql` in the pod connects
as the application does (docs/operations.md: `kubectl exec deployment/innominatus -- psql …`).

The chart sets PGPASSFILE in every container; `kubectl exec` inherits it. The file is written by every
process at start-up (the last writer wins; all resolved the same password) and only ever replaced
whole, so psql never reads half a file.
"""

import os
import tempfile
from pathlib import Path


def _escape(value: str) -> str:
    # libpq's .pgpass format: fields separated by ':', with '\\' and ':' escaped by a backslash.
    return value.replace("\\", "\\\\").replace(":", "\\:")


def write_pgpass(path: str, *, host: str, port: str, user: str, password: str) -> None:
    """Write `host:port:*:user:password` to `path` (mode 0600, which libpq requires)."""
    target = Path(path)
    line = ":".join(_escape(field) for field in (host, port or "5432")) + ":*:"
    line += f"{_escape(user)}:{_escape(password)}\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".pgpass-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(line)
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
