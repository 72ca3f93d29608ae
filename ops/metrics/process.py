"""process_* metrics summed over a process tree (gunicorn master and workers, q2 sentinel and workers).

prometheus_client's own process collector sees one process, which in multi-process mode would be
whichever worker answered the scrape.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGESIZE") if hasattr(os, "sysconf") else 4096


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses; fields resume after the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list((_PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def process_tree(root: int) -> list[int]:
    """`root` and all its live descendants."""
    seen: list[int] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in seen or not (_PROC / str(pid)).exists():
            continue
        seen.append(pid)
        pending.extend(_children(pid))
    return seen


def _boot_time() -> float:
    for line in (_PROC / "stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def _max_fds(pid: int) -> float | None:
    try:
        for line in (_PROC / str(pid) / "limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return float(line.split()[3])
    except (OSError, IndexError, ValueError):
        return None
    return None


def tree_root() -> int:
    """The root of this server's process tree: the gunicorn master when known, else this process."""
    raw = os.environ.get("INNOMINATUS_MASTER_PID", "")
    if raw.isdigit() and (_PROC / raw).exists():
        return int(raw)
    return os.getpid()


class ProcessTreeCollector(Collector):
    """Sums CPU, memory and file descriptors over the process tree rooted at `root()`."""

    def __init__(self, root: int | None = None) -> None:
        self._root = root

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        if not (_PROC / "self" / "stat").exists():
            return
        root = self._root or tree_root()
        cpu = rss = vms = fds = 0.0
        pids = process_tree(root)
        start: float | None = None
        for pid in pids:
            fields = _stat_fields(pid)
            if fields is None:
                continue
            # Fields after the name: state(0) … utime(11) stime(12) … starttime(19) vsize(20) rss(21).
            cpu += (int(fields[11]) + int(fields[12])) / _TICKS
            vms += float(fields[20])
            rss += float(fields[21]) * _PAGE
            if pid == root:
                start = _boot_time() + int(fields[19]) / _TICKS
            with contextlib.suppress(OSError):
                fds += len(os.listdir(_PROC / str(pid) / "fd"))
        yield CounterMetricFamily(
            "process_cpu_seconds", "User and system CPU time of the server's processes.", cpu
        )
        yield GaugeMetricFamily(
            "process_resident_memory_bytes", "Resident memory of the server's processes.", rss
        )
        yield GaugeMetricFamily(
            "process_virtual_memory_bytes", "Virtual memory of the server's processes.", vms
        )
        yield GaugeMetricFamily("process_open_fds", "Open file descriptors of the server's processes.", fds)
        limit = _max_fds(root)
        if limit is not None:
            yield GaugeMetricFamily(
                "process_max_fds", "Open file descriptor limit of the server process.", limit
            )
        if start is not None:
            yield GaugeMetricFamily("process_start_time_seconds", "Start time of the server process.", start)
        yield GaugeMetricFamily("innominatus_processes", "Processes in the server's process tree.", len(pids))
