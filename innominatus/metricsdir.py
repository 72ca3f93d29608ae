"""Where forked processes keep their Prometheus samples (shared by settings.py and gunicorn_conf.py).

prometheus_client decides at import time whether to write samples to files, so the variable must be
set before anything imports it: settings.py and the gunicorn master both call this first.
"""

import os
from pathlib import Path

from innominatus.env import Env

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def default_dir(env: Env) -> Path:
    """<INNOMINATUS_DATA_DIR>/metrics: one directory per installation, never shared by two on a host."""
    data_dir = env.str("INNOMINATUS_DATA_DIR") or str(Path(__file__).resolve().parent.parent / "data")
    return Path(data_dir) / "metrics"


def configure(env: Env | None = None) -> str:
    """Export PROMETHEUS_MULTIPROC_DIR (default <INNOMINATUS_DATA_DIR>/metrics); "" means in-memory metrics."""
    env = env or Env()
    value = env.raw(VARIABLE)
    if value is None:
        value = str(default_dir(env))
    if value:
        Path(value).mkdir(parents=True, exist_ok=True)
        os.environ[VARIABLE] = value
    else:
        os.environ.pop(VARIABLE, None)
    return value


def remove_dead_process_files(directory: str) -> list[str]:
    """Delete sample files of processes that no longer run (file names end in _<pid>.db)."""
    removed = []
    for path in Path(directory).glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        path.unlink(missing_ok=True)
        removed.append(path.name)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
