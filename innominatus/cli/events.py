"""Following an execution: the event stream wakes the loop, the REST API is the source of truth.

`/api/events/stream` (Server-Sent Events, CONTRACTS.md) is read on a background thread; every
message wakes the main loop, which re-reads the execution (and new log lines) from the REST API.
When the server has no stream (404) or it breaks, the loop polls on a timer instead, so a missed
or late event can delay a line on screen but never lose or invent one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from rich.console import Console
from rich.markup import escape

from innominatus.cli.client import Client
from innominatus.cli.errors import FAILED, CliError

TERMINAL = frozenset({"completed", "failed", "cancelled"})
POLL_SECONDS = 1.0
# With a live stream the loop still re-reads now and then, in case the stream drops a message.
STREAM_SAFETY_SECONDS = 5.0
RECONNECT_SECONDS = 3.0


class Waker:
    """Sets `event` whenever the server reports something for the filter; polls when it cannot stream."""

    def __init__(self, client: Client, params: dict[str, str]) -> None:
        self.client = client
        self.params = params
        self.event = threading.Event()
        self.mode = "connecting"
        self.stopped = threading.Event()
        self.response: requests.Response | None = None
        self.thread = threading.Thread(target=self._run, name="innominatus-events", daemon=True)
        self.thread.start()

    def wait(self) -> None:
        timeout = STREAM_SAFETY_SECONDS if self.mode == "stream" else POLL_SECONDS
        self.event.wait(timeout)
        self.event.clear()

    def close(self) -> None:
        self.stopped.set()
        response = self.response
        if response is not None:
            # Closing a stream the reader thread is using may fail in any way; there is nothing to do.
            with contextlib.suppress(Exception):
                response.close()

    def _run(self) -> None:
        last_id = ""
        while not self.stopped.is_set():
            headers = {"Accept": "text/event-stream"}
            if last_id:
                headers["Last-Event-ID"] = last_id
            try:
                response = self.client.session.get(
                    self.client.url("/api/events/stream"),
                    params=self.params,
                    headers=headers,
                    stream=True,
                    timeout=(10.0, 45.0),  # keep-alives arrive every 15 s
                )
            except requests.RequestException:
                self.mode = "polling"
                self.stopped.wait(RECONNECT_SECONDS)
                continue
            if response.status_code in (404, 405, 501):
                # No event stream on this server: poll for good.
                self.mode = "polling"
                response.close()
                return
            if response.status_code != 200:
                self.mode = "polling"
                response.close()
                self.stopped.wait(RECONNECT_SECONDS)
                continue
            self.response = response
            self.mode = "stream"
            # A fresh connection may have missed something: look once.
            self.event.set()
            try:
                last_id = self._read(response, last_id)
            except (requests.RequestException, AttributeError, ValueError):
                pass
            finally:
                response.close()
                self.response = None
            if not self.stopped.is_set():
                self.mode = "polling"
                self.stopped.wait(RECONNECT_SECONDS)

    def _read(self, response: requests.Response, last_id: str) -> str:
        has_data = False
        # One byte at a time: an event must not wait in a buffer for the bytes of the next one.
        for line in response.iter_lines(chunk_size=1, decode_unicode=True):
            if self.stopped.is_set():
                break
            if line is None:
                continue
            if line.startswith("id:"):
                last_id = line[3:].strip()
            elif line.startswith("data:"):
                has_data = True
            elif line == "" and has_data:
                has_data = False
                self.event.set()
        return last_id


STEP_MARKS = {
    "running": ("▶", "cyan", "started"),
    "completed": ("✓", "green", "completed"),
    "failed": ("✗", "red", "failed"),
    "skipped": ("-", "dim", "skipped"),
    "cancelled": ("■", "yellow", "cancelled"),
    "waiting": ("⏸", "magenta", "waiting for approval"),
}


def _step_line(step: dict[str, Any], execution_id: str) -> str:
    mark, style, verb = STEP_MARKS[step["status"]]
    name = escape(step["name"])
    text = f"[{style}]{mark}[/{style}] {name} {verb}"
    if step["status"] == "completed" and step.get("duration_seconds") is not None:
        text += f" ({step['duration_seconds']:.1f}s)"
    if step["status"] == "failed" and step.get("error_message"):
        text += f": {escape(step['error_message'])}"
    if step["status"] == "skipped" and step.get("skip_reason"):
        text += f": {escape(step['skip_reason'])}"
    if step["status"] == "waiting":
        text += f" (innominatus-ctl workflows approve {execution_id} {name})"
    if step.get("attempt", 1) > 1 and step["status"] in ("running", "failed"):
        text += escape(f" [attempt {step['attempt']}/{step.get('max_attempts')}]")
    return text


class Progress:
    """Prints one line per step transition, so the output reads the same on a terminal and in CI logs."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.seen: dict[str, tuple[str, int]] = {}

    def update(self, detail: dict[str, Any]) -> None:
        for step in sorted(detail.get("steps") or [], key=lambda s: (s.get("position", 0), s["name"])):
            state = (step["status"], int(step.get("attempt") or 1))
            if self.seen.get(step["name"]) == state:
                continue
            previous = self.seen.get(step["name"])
            self.seen[step["name"]] = state
            if step["status"] in STEP_MARKS:
                if previous is None and step["status"] != "running" and step["status"] in TERMINAL:
                    # It started and ended between two looks: show both, as it happened.
                    self.console.print(_step_line({**step, "status": "running"}, detail["id"]))
                self.console.print(_step_line(step, detail["id"]))


def print_log_lines(console: Console, lines: list[dict[str, Any]], with_step: bool = True) -> None:
    for line in lines:
        prefix = f"[dim]{escape(line.get('step') or '-')} |[/dim] " if with_step else ""
        style = "red" if line.get("stream") == "stderr" else None
        message = line.get("message", "")
        console.print(prefix, end="", markup=True, highlight=False)
        console.print(message, style=style, markup=False, highlight=False)


def follow_execution(
    client: Client,
    execution_id: str,
    console: Console,
    *,
    progress: bool = True,
    logs: bool = False,
    step: str | None = None,
    on_start: Callable[[dict[str, Any], str], None] | None = None,
) -> dict[str, Any]:
    """Show progress (and log lines) until the execution ends; returns its final detail."""
    # With logs, step.log batches wake the loop too, so lines appear as they are written.
    waker = Waker(client, {"execution": execution_id, **({"logs": "true"} if logs else {})})
    tracker = Progress(console)
    after = 0
    announced = False
    try:
        while True:
            detail = client.get(f"/api/workflows/{execution_id}")
            if not announced and on_start is not None:
                # Give the stream a moment so the line says how we follow.
                deadline = time.monotonic() + 2
                while waker.mode == "connecting" and time.monotonic() < deadline:
                    time.sleep(0.05)
                on_start(detail, "event stream" if waker.mode == "stream" else "polling")
            announced = True
            if logs:
                after = _drain_logs(client, console, execution_id, after, step)
            if progress:
                tracker.update(detail)
            if detail["status"] in TERMINAL:
                if logs:
                    _drain_logs(client, console, execution_id, after, step)
                return dict(detail)
            waker.wait()
    finally:
        waker.close()


def _drain_logs(client: Client, console: Console, execution_id: str, after: int, step: str | None) -> int:
    while True:
        params: dict[str, Any] = {"after": after, "limit": 1000}
        if step:
            params["step"] = step
        page = client.get(f"/api/workflows/{execution_id}/logs", params=params)
        print_log_lines(console, page["lines"], with_step=not step)
        after = int(page["next_after"])
        if len(page["lines"]) < 1000:
            return after


def outcome(detail: dict[str, Any]) -> None:
    """Raise CliError (exit 1) with each failed step's error when the execution did not complete."""
    if detail["status"] == "completed":
        return
    failed = [s for s in detail.get("steps") or [] if s["status"] == "failed"]
    lines = [f"{s['name']}: {s.get('error_message') or 'failed'}" for s in failed]
    message = f"{detail['id']} {detail['status']}"
    if detail.get("error_message"):
        message += f": {detail['error_message']}"
    raise CliError(message, exit_code=FAILED, lines=lines)
