"""The supervisor of one step process: it owns the command's process tree and never outlives its worker.

Run as `python -I -S supervisor.py STATUS_FD PARENT GRACE UID GID RESULT LOCK -- ARGV…` by
workflows.steps.process, in the command's working directory and environment (`-` for no uid, gid or
result file). It imports only a few standard modules (no Django, no site-packages, not even json or
subprocess), so it starts in about as little time as an interpreter can. The supervisor

- asks the kernel for SIGHUP when the worker thread that started it dies (PR_SET_PDEATHSIG), and is a
  child subreaper, so that no descendant of the command can escape by double-forking or setsid;
- starts the command in its own session, as the step user when one is given;
- on SIGTERM (the worker stops the step) or SIGHUP (the worker died) ends the whole tree: SIGTERM,
  then SIGKILL after `grace` seconds;
- when the command exits on its own, writes the result file (exit code) atomically before it stops
  whatever the command left behind: the evidence a worker that died meanwhile leaves for the reaper;
- holds a shared lock on the lock file until every process of the tree is gone, so the worker's host
  can tell that an attempt is over.

The status pipe carries one JSON line when the command started (or could not start) and one when it
ended.
"""

import contextlib
import ctypes
import errno
import fcntl
import os
import signal
import sys
import time
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Tree:
    """The command's process and every descendant of this supervisor: what must end with the attempt."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.child: int | None = None
        self.stop_reason = ""
        self.killed = False

    def request_stop(self, signum: int, _frame: Any = None) -> None:
        """Signal handler: the worker asked the step to stop, or it died."""
        if not self.stop_reason:
            died = signum == signal.SIGHUP or os.getppid() == 1
            self.stop_reason = "worker died" if died else "stopped by the worker"
        if self.child is not None:
            self.terminate()

    def terminate(self) -> None:
        """SIGTERM now; the SIGALRM handler sends SIGKILL once the grace period is over."""
        if self.killed:
            return
        self._signal_all(signal.SIGTERM)
        signal.signal(signal.SIGALRM, self._kill)
        signal.setitimer(signal.ITIMER_REAL, max(self.grace, 0.01))

    def _kill(self, _signum: int, _frame: Any) -> None:
        self.killed = True
        self._signal_all(signal.SIGKILL)

    def _signal_all(self, signum: int) -> None:
        targets = set(descendants(os.getpid()))
        if self.child is not None:
            targets.add(self.child)
            with contextlib.suppress(OSError):  # the group is empty already
                os.killpg(self.child, signum)
        for pid in targets:
            with contextlib.suppress(OSError):  # gone already
                os.kill(pid, signum)

    def finish(self) -> None:
        """End every process left in the tree (the command exited, its background children remain)."""
        if descendants(os.getpid()):
            self.terminate()
        # A process stuck in the kernel (uninterruptible sleep) cannot be waited for forever.
        deadline = time.monotonic() + self.grace + 5.0
        while time.monotonic() < deadline:
            reap_orphans()
            if not descendants(os.getpid()):
                break
            time.sleep(0.02)
        signal.setitimer(signal.ITIMER_REAL, 0)


def descendants(root: int) -> list[int]:
    """Live (non-zombie) processes below `root`, from /proc."""
    parents: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if len(fields) > 1 and fields[0] not in ("Z", "X"):
            parents[int(name)] = int(fields[1])
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def reap_orphans() -> None:
    """Collect exited orphans adopted as subreaper (never the command: Popen waits for it)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def write_atomically(path: str, text: str) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(descriptor, text.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


def spawn(argv: list[str], uid: int | None, gid: int | None, libc: Any) -> int:
    """Fork and exec the command in its own session, as uid/gid when given; OSError when it cannot start."""
    errors_read, errors_write = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the child: only exec (or report why not) from here
        try:
            os.close(errors_read)
            os.setsid()
            if uid is not None and gid is not None:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            # After the switch to the step user (which clears the setting): the command dies with us too.
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            for signum in (*STOP_SIGNALS, signal.SIGALRM, signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(signum, signal.SIG_DFL)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            # argv is the step command the worker built; no shell is involved.
            os.execvp(argv[0], argv)  # noqa: S606  # nosec B606
        except OSError as exc:
            os.write(errors_write, f"{exc.errno or errno.EIO}".encode())
        os._exit(127)
    os.close(errors_write)
    try:
        report = os.read(errors_read, 64)
    finally:
        os.close(errors_read)
    if report:
        os.waitpid(pid, 0)
        number = int(report)
        raise OSError(number, os.strerror(number))
    return pid


def main() -> int:
    status_fd, parent, grace, uid, gid, result, lock_path = sys.argv[1:8]
    argv = sys.argv[9:]
    os.set_inheritable(int(status_fd), False)
    status = os.fdopen(int(status_fd), "w", buffering=1)
    tree = Tree(float(grace))
    for signum in STOP_SIGNALS:
        signal.signal(signum, tree.request_stop)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGHUP, 0, 0, 0)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    if os.getppid() != int(parent):
        status.write(f'{{"error": {errno.ESRCH}, "message": "the worker ended before the step started"}}\n')
        return 1
    lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        tree.child = spawn(argv, None if uid == "-" else int(uid), None if gid == "-" else int(gid), libc)
    except OSError as exc:
        message = (exc.strerror or "cannot start").replace('"', "'")
        status.write(f'{{"error": {exc.errno or errno.EIO}, "message": "{message}"}}\n')
        return 1
    status.write(f'{{"started": {tree.child}}}\n')
    if tree.stop_reason:  # a stop request arrived while the command was being started
        tree.terminate()
    _, wait_status = os.waitpid(tree.child, 0)
    returncode = os.waitstatus_to_exitcode(wait_status)
    if result != "-" and not tree.stop_reason:
        write_atomically(result, f'{{"exit": {returncode}, "finished_at": {time.time()}}}')
    tree.finish()
    status.write(f'{{"exit": {returncode}, "stopped": "{tree.stop_reason}"}}\n')
    return 0


if __name__ == "__main__":
    sys.exit(main())
