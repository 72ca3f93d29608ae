"""Run a step's subprocess under a supervisor: scrubbed environment, own session, live log lines, prompt
stop, and no process that outlives its worker."""

from __future__ import annotations

import collections
import contextlib
import errno
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from workflows.steps.base import StepContext, StepStopped
from workflows.steps.isolation import ENGINE_DIR, RUNS_DIR, check_reachable, hand_over, private_dir

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_LOG_LINES = 10_000
MAX_LINE_BYTES = 8 * 1024
TAIL_LINES = 20
POLL_INTERVAL = 0.2
DEFAULT_GRACE = 5.0
# How long the output pipes may stay open after the main process exited (a background child holds them).
PIPE_LINGER = 1.0

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Called for each line before it is logged; returning True consumes the line (it is not logged).
LineHook = Callable[[str, str], bool]


@dataclass
class ProcessResult:
    """How a finished subprocess ended, with the last lines of each stream for error messages."""

    returncode: int
    stdout_tail: list[str] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)
    # Every stdout line, only when the caller asked to capture stdout instead of logging it.
    stdout: list[str] = field(default_factory=list)
    lines_seen: int = 0


def env_value(value: Any) -> str:
    """The string an environment variable gets for a configured value (YAML scalars, lists, maps)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def env_vars(values: Mapping[str, Any], *, prefix: str = "", normalise: bool = False) -> dict[str, str]:
    """Validated environment variables from a config mapping; ValueError names the first bad entry."""
    result: dict[str, str] = {}
    for raw_name, raw_value in values.items():
        name = str(raw_name)
        if normalise:
            name = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
        name = prefix + name
        if not ENV_NAME.match(name):
            raise ValueError(f"{raw_name!r} is not a valid environment variable name")
        value = env_value(raw_value)
        if "\0" in value:
            raise ValueError(f"environment variable {name} contains a NUL byte")
        result[name] = value
    return result


def safe_name(name: str) -> str:
    """A step name made safe as one directory component (no separators, no dots)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "step"


def scrubbed_env(workdir: Path, *layers: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment: an allow-list of harmless variables, then the given layers in order.

    Nothing else of the worker's environment (DB_PASSWORD, SECRET_KEY, cloud credentials …) leaks in.
    """
    tmp = workdir / ".tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH") or DEFAULT_PATH,
        "HOME": str(workdir),
        "LANG": os.environ.get("LANG") or "C.UTF-8",
        "TZ": os.environ.get("TZ") or "UTC",
        "TMPDIR": str(tmp),
    }
    for layer in layers:
        env.update(layer)
    return env


SUPERVISOR = Path(__file__).with_name("supervisor.py")
# How long a stopped supervisor may take beyond the grace period before it is killed outright.
SUPERVISOR_SLACK = 3.0


def run_dir(workdir: Path, step_name: str) -> Path:
    """Where the supervisors of a step's processes keep their lock and result files (the worker's own)."""
    engine = private_dir(workdir / ENGINE_DIR)
    runs = private_dir(engine / RUNS_DIR, 0o700)
    return private_dir(runs / safe_name(step_name), 0o700)


def run_process(
    ctx: StepContext,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_line: LineHook | None = None,
    capture_stdout: bool = False,
    grace: float = DEFAULT_GRACE,
    max_log_lines: int = MAX_LOG_LINES,
    result_file: Path | None = None,
) -> ProcessResult:
    """Run argv to completion, streaming its output to ctx.log as it arrives.

    The process runs under a supervisor (workflows/steps/supervisor.py) in its own session, as
    ctx.run_as when set. When the step must stop (ctx.raise_if_stopped raises), the supervisor ends
    the whole process tree (SIGTERM, SIGKILL after `grace` seconds) and StepStopped propagates; when
    the worker dies, the kernel tells the supervisor, which does the same. Processes the command leaves
    behind are ended too: nothing outlives its step. With `result_file`, the supervisor writes the exit
    code there when the command ended on its own (evidence for a worker that dies before recording it).
    Raises OSError when argv cannot be started.
    """
    workdir = Path(ctx.workdir)
    cwd.mkdir(parents=True, exist_ok=True)
    runs = run_dir(workdir, ctx.step_name)
    if ctx.run_as is not None:
        hand_over(workdir, ctx.run_as)
        if not cwd.resolve().is_relative_to(workdir.resolve()):
            check_reachable(cwd, ctx.run_as)
    status_read, status_write = os.pipe()
    options = [
        str(status_write),
        str(os.getpid()),
        str(grace),
        str(ctx.run_as.uid) if ctx.run_as else "-",
        str(ctx.run_as.gid) if ctx.run_as else "-",
        str(result_file) if result_file else "-",
        str(runs / "supervisor.lock"),
    ]
    try:
        # The supervisor is our own script; the step's argv follows as a list, never as a shell line.
        proc = subprocess.Popen(  # noqa: S603  # nosec B603
            [sys.executable, "-I", "-S", str(SUPERVISOR), *options, "--", *argv],
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
            pass_fds=(status_write,),
        )
    finally:
        os.close(status_write)
    status = os.fdopen(status_read, "rb")
    assert proc.stdout is not None and proc.stderr is not None
    try:
        started = _status_line(status)
        if "started" not in started:
            proc.wait()
            raise OSError(int(started.get("error") or errno.EIO), str(started.get("message") or "no status"))
    except BaseException:
        status.close()
        proc.stdout.close()
        proc.stderr.close()
        raise
    lines: queue.Queue[tuple[str, str | None]] = queue.Queue()
    readers = [
        threading.Thread(target=_read_lines, args=(proc.stdout, "stdout", lines), daemon=True),
        threading.Thread(target=_read_lines, args=(proc.stderr, "stderr", lines), daemon=True),
    ]
    for reader in readers:
        reader.start()
    sink = _LineSink(ctx, on_line, capture_stdout, max_log_lines)
    command = int(started["started"])
    try:
        _pump(ctx, proc, lines, sink, grace)
    except StepStopped:
        _stop(proc, command, grace)
        _finish_readers(proc, readers)
        # What the process printed while shutting down ("Stopping operation…") still reaches the log.
        _drain(lines, sink)
        status.close()
        raise
    except BaseException:
        _stop(proc, command, grace)
        _finish_readers(proc, readers)
        status.close()
        raise
    proc.wait()
    ended = _status_line(status)
    status.close()
    _finish_readers(proc, readers)
    _drain(lines, sink)
    return ProcessResult(
        returncode=int(ended["exit"]) if "exit" in ended else proc.returncode,
        stdout_tail=list(sink.tails["stdout"]),
        stderr_tail=list(sink.tails["stderr"]),
        stdout=sink.captured,
        lines_seen=sink.seen,
    )


def _status_line(status: IO[bytes]) -> dict[str, Any]:
    """The supervisor's next status line; {} when it ended without one."""
    line = status.readline()
    try:
        value = json.loads(line) if line.strip() else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _stop(proc: subprocess.Popen[bytes], command: int, grace: float) -> None:
    """Ask the supervisor to end the command's tree; kill both outright if it does not within the grace
    period (and some slack)."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace + SUPERVISOR_SLACK)
    except subprocess.TimeoutExpired:
        _signal_group(command, signal.SIGKILL)
        proc.kill()
        proc.wait()


def _finish_readers(proc: subprocess.Popen[bytes], readers: list[threading.Thread]) -> None:
    """Wait briefly for the reader threads; close the pipes of those that are done."""
    for reader, pipe in zip(readers, (proc.stdout, proc.stderr), strict=True):
        reader.join(timeout=1.0)
        # A reader still blocked (a process outside our group holds the pipe) keeps its pipe: closing
        # a buffered reader another thread is reading from would block.
        if pipe is not None and not reader.is_alive():
            pipe.close()


def _drain(lines: queue.Queue[tuple[str, str | None]], sink: _LineSink) -> None:
    while True:
        try:
            stream, text = lines.get_nowait()
        except queue.Empty:
            return
        if text is not None:
            sink.add(stream, text)


class _LineSink:
    """Routes lines from the reader threads to the hook, the log, the tails and the capture list."""

    def __init__(self, ctx: StepContext, on_line: LineHook | None, capture: bool, max_log_lines: int) -> None:
        self.ctx = ctx
        self.on_line = on_line
        self.capture = capture
        self.max_log_lines = max_log_lines
        self.logged = 0
        self.seen = 0
        self.captured: list[str] = []
        self.tails: dict[str, collections.deque[str]] = {
            "stdout": collections.deque(maxlen=TAIL_LINES),
            "stderr": collections.deque(maxlen=TAIL_LINES),
        }

    def add(self, stream: str, text: str) -> None:
        self.seen += 1
        if self.on_line is not None and self.on_line(stream, text):
            return
        if self.capture and stream == "stdout":
            self.captured.append(text)
            return
        self.tails[stream].append(text)
        if self.logged < self.max_log_lines:
            self.ctx.log(text, stream)
        elif self.logged == self.max_log_lines:
            self.ctx.log(f"output truncated: only the first {self.max_log_lines} lines are logged", "system")
        self.logged += 1


def _pump(
    ctx: StepContext,
    proc: subprocess.Popen[bytes],
    lines: queue.Queue[tuple[str, str | None]],
    sink: _LineSink,
    grace: float,
) -> None:
    """Deliver lines until the process exited and both pipes closed, checking for a stop request."""
    open_streams = 2
    exited_at: float | None = None
    while True:
        # Once both pipes closed, only the exit is awaited: poll briefly so short commands finish fast.
        try:
            item: tuple[str, str | None] | None = lines.get(timeout=POLL_INTERVAL if open_streams else 0.01)
        except queue.Empty:
            item = None
        # Bounded batches so a flood of output cannot starve the stop check.
        for _ in range(1000):
            if item is None:
                break
            stream, text = item
            if text is None:
                open_streams -= 1
            else:
                sink.add(stream, text)
            try:
                item = lines.get_nowait()
            except queue.Empty:
                item = None
        ctx.raise_if_stopped()
        if exited_at is None and _has_exited(proc.pid):
            exited_at = time.monotonic()
        if exited_at is None:
            continue
        if open_streams == 0:
            return
        # The supervisor ended every process of the tree before it exited: only a process that got out of
        # it (another subreaper adopted it) can still hold the pipes; stop waiting for it.
        if time.monotonic() - exited_at > PIPE_LINGER + grace:
            ctx.log("output pipes still open after the command ended; ignoring further output", "system")
            return


def _read_lines(pipe: IO[bytes], stream: str, out: queue.Queue[tuple[str, str | None]]) -> None:
    """Reader thread: one queue item per line (over-long lines cut at MAX_LINE_BYTES), None at EOF."""
    try:
        while True:
            chunk = pipe.readline(MAX_LINE_BYTES)
            if not chunk:
                break
            text = chunk.decode("utf-8", "replace").rstrip("\r\n")
            if not chunk.endswith(b"\n") and len(chunk) >= MAX_LINE_BYTES:
                while True:
                    rest = pipe.readline(MAX_LINE_BYTES)
                    if not rest or rest.endswith(b"\n"):
                        break
                text += " … [line truncated]"
            out.put((stream, text))
    except (OSError, ValueError):
        pass  # the pipe was closed under us: the process is gone
    finally:
        out.put((stream, None))


def _has_exited(pid: int) -> bool:
    """Whether the child exited, without reaping it: its zombie keeps the group id from being reused."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pgid, signum)
