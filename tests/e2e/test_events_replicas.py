"""The event stream across processes: a client on one gunicorn receives the events of an execution that
a `manage.py worker` runs, started through another gunicorn; resume on the other replica loses nothing;
another team's events never arrive."""

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from innominatus.accounts.models import Team
from innominatus.accounts.services import create_api_key
from tests.e2e.conftest import Processes, wait_until
from workflows.choices import EXECUTION_TERMINAL_STATUSES, ExecutionStatus
from workflows.engine.loader import load_workflow
from workflows.models import WorkflowExecution
from workflows.services import executions
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.e2e


def events(url: str, key: str, last_event_id: int | None = None, **params: str) -> Iterator[dict[str, Any]]:
    """The stream's events (and resets), parsed, as they arrive."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    with requests.get(
        url + "/api/events/stream", headers=headers, params=params, stream=True, timeout=30
    ) as got:
        assert got.status_code == 200, got.text
        fields: dict[str, str] = {}
        for line in got.iter_lines(decode_unicode=True):
            if line == "":
                if "event" in fields:
                    yield {"id": int(fields["id"]), "event": fields["event"], **json.loads(fields["data"])}
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value


def launch(text: str, team: Team, app: str) -> WorkflowExecution:
    definition = load_workflow(text, known_step_types=known_step_types())
    return executions.launch_execution(definition=definition, app_name=app, team=team)


def finished(execution_id: str) -> WorkflowExecution | None:
    found = WorkflowExecution.objects.get(pk=execution_id)
    return found if found.status in EXECUTION_TERMINAL_STATUSES else None


def test_events_reach_a_client_on_another_replica_and_resume_loses_nothing(
    processes: Processes, make_user: Any, tmp_path: Path
) -> None:
    developer = make_user("dev", team="team-a")
    make_user("other", team="team-b")
    key = create_api_key(user=developer, name="events").raw_key
    processes.worker("worker", workers=2)
    replica_a, replica_b = processes.gunicorn(), processes.gunicorn()
    marker = tmp_path / "second-run"
    flaky = f"""
metadata: {{name: flaky}}
steps:
  - {{name: first, type: noop}}
  - name: second
    type: script
    dependsOn: [first]
    script: |
      echo starting
      if [ -f {marker} ]; then echo fine; exit 0; fi
      touch {marker}; echo failing; exit 3
  - {{name: third, type: noop, dependsOn: [second]}}
"""
    failed = launch(flaky, Team.objects.get(name="team-a"), "shop")
    done = wait_until(lambda: finished(failed.id), timeout=120, what="the first run to fail")
    assert done.status == ExecutionStatus.FAILED

    # A client on replica A, listening from before anything happens: it names the last event id it knows
    # (as a client that polled before would), so however late its connection is accepted, nothing is lost.
    start = requests.get(replica_b + "/api/events", headers={"Authorization": f"Bearer {key}"}, timeout=10)
    start_id = start.json()["last_id"]
    received: list[dict[str, Any]] = []
    first_step_seen = threading.Event()
    leave = threading.Event()

    def listen() -> None:
        for event in events(replica_a, key, last_event_id=start_id, logs="true"):
            received.append(event)
            if event["type"] == "step.started":
                first_step_seen.set()
            if leave.is_set() or event["type"] == "step.started":
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()

    # Another team's run meanwhile: none of it may reach the client.
    theirs = launch(
        "metadata: {name: theirs}\nsteps:\n  - {name: only, type: noop}\n",
        Team.objects.get(name="team-b"),
        "theirs",
    )
    # The retry goes through replica B; a worker runs it.
    retried = requests.post(
        f"{replica_b}/api/workflows/{failed.id}/retry", headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert retried.status_code == 201, retried.text
    retry_id = retried.json()["id"]
    assert first_step_seen.wait(60), f"no step.started reached replica A: {received}"
    listener.join(10)

    # The client left after its first step event; it resumes on replica B from the last id it saw.
    last_seen = received[-1]["id"]
    resumed: list[dict[str, Any]] = []
    for event in events(replica_b, key, last_event_id=last_seen, logs="true"):
        resumed.append(event)
        if event["type"] in ("execution.succeeded", "execution.failed") and event["execution"] == retry_id:
            break
    wait_until(lambda: finished(theirs.id), timeout=60, what="the other team's run")

    streamed = received + resumed
    assert all(event["team"] == "team-a" for event in streamed), "another team's event arrived"
    assert theirs.id not in {event["execution"] for event in streamed}
    mine = [event for event in streamed if event["execution"] == retry_id]
    kinds = [event["type"] for event in mine if event["type"] != "step.log"]
    assert kinds[0] == "execution.created" and kinds[-1] == "execution.succeeded", kinds
    assert "step.succeeded" in kinds
    lines = [line["text"] for event in mine if event["type"] == "step.log" for line in event["data"]["lines"]]
    assert "fine" in lines, lines

    # Nothing lost across the reconnect: the stream held exactly what the table holds, in order.
    everything = requests.get(
        replica_a + "/api/events",
        params={"after": start_id, "execution": retry_id, "logs": "true", "limit": 1000},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()["results"]
    # (The stream was left at execution.succeeded; later events of the run, if any, are not compared.)
    end = mine[-1]["id"]
    assert [event["id"] for event in mine] == [event["id"] for event in everything if event["id"] <= end], (
        [(e["id"], e["type"]) for e in mine],
        [(e["id"], e["type"]) for e in everything],
    )
    ids = [event["id"] for event in streamed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_streams_end_promptly_when_gunicorn_stops(processes: Processes, make_user: Any) -> None:
    developer = make_user("dev", team="team-a")
    key = create_api_key(user=developer, name="events").raw_key
    replica = processes.gunicorn()
    stream = requests.get(
        replica + "/api/events/stream", headers={"Authorization": f"Bearer {key}"}, stream=True, timeout=30
    )
    assert stream.status_code == 200
    lines = stream.iter_lines(decode_unicode=True)
    assert next(lines) == "retry: 3000"
    gunicorn = next(child for child in processes.children if "gunicorn" in str(child.args))
    import time

    started = time.monotonic()
    gunicorn.terminate()  # SIGTERM to the master: a graceful stop
    for _ in lines:  # the stream ends (not by the 30 s graceful timeout)
        pass
    gunicorn.wait(timeout=20)
    assert time.monotonic() - started < 10
