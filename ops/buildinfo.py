"""What is running: version, commit and start time, resolved once per process."""

import functools
import os
import shutil
import subprocess
import time
from pathlib import Path

import innominatus

# gunicorn's master records its start so that every worker reports the server's uptime, not its own.
STARTED_AT_ENV = "INNOMINATUS_STARTED_AT"
_IMPORTED_AT = time.time()


def version() -> str:
    """The package version (innominatus.__version__)."""
    return innominatus.__version__


@functools.cache
def commit() -> str:
    """The source commit: GIT_COMMIT when the image was built with it, else `git rev-parse`, else unknown."""
    from django.conf import settings

    if settings.GIT_COMMIT:
        return str(settings.GIT_COMMIT)
    root = Path(__file__).resolve().parent.parent
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        result = subprocess.run(  # noqa: S603  # nosec B603 - git by absolute path, fixed arguments
            [git, "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and sha else "unknown"


def started_at() -> float:
    """Unix time the server (gunicorn master, or this process) started."""
    raw = os.environ.get(STARTED_AT_ENV, "")
    try:
        return float(raw) if raw else _IMPORTED_AT
    except ValueError:
        return _IMPORTED_AT


def uptime_seconds() -> float:
    """Seconds since the server started."""
    return max(0.0, time.time() - started_at())
