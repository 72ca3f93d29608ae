"""Processes on this host, as the worker's supervisor and the reaper's fencing see them."""

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether a process (not a zombie waiting for its parent) with this pid runs on this host."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return stat[stat.rindex(")") + 2 :][:1] not in ("Z", "X")
