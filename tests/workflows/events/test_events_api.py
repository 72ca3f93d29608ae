"""`GET /api/events/stream` and `GET /api/events` in process: scoping, filters, resume, reset, limits.

Transactional: the hub reads the events on a connection of its own, which sees only committed rows.
"""

import gc
import json
import time
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.workflows.api.factories import make_application, make_execution, make_log, make_step
from workflows.choices import ExecutionStatus, StepStatus
from workflows.events.hub import Hub
from workflows.events.retention import prune_events
from workflows.models import Event

pytestmark = pytest.mark.django_db(transaction=True)


def messages(response: Any, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The first `count` messages (events and resets) of a stream, parsed; keep-alives are skipped."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    stream = iter(response.streaming_content)
    while len(found) < count and time.monotonic() < deadline:
        chunk = next(stream).decode()
        fields = dict(line.split(": ", 1) for line in chunk.strip().splitlines() if not line.startswith(":"))
        if "event" in fields:
            found.append(
                {"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])}
            )
    response.close()
    return found


def poll(api: APIClient, url: str, count: int) -> dict[str, Any]:
    """Poll until `count` results are there: the poll answers what the hub has seen committed, which
    may lag a commit by one notification."""
    deadline = time.monotonic() + 10
    while True:
        page = api.get(url).json()
        if len(page["results"]) >= count or time.monotonic() > deadline:
            return page
        time.sleep(0.05)


def run_execution(user: Any, app_name: str, *, logs: bool = False) -> str:
    execution = make_execution(make_application(user, app_name), status=ExecutionStatus.PENDING)
    step = make_step(execution, "apply", status=StepStatus.PENDING)
    execution.start()
    step.transition(StepStatus.RUNNING)
    if logs:
        make_log(step, 1, "hello from the step")
    step.transition(StepStatus.COMPLETED)
    execution.finish(ExecutionStatus.COMPLETED)
    return execution.id


def test_stream_sends_retry_first_then_own_teams_events_only(
    event_hub: Hub, api: APIClient, developer: Any, make_user: Any
) -> None:
    stranger = make_user("stranger", team="team-b")
    response: Any = api.get("/api/events/stream", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    first = next(iter(response.streaming_content)).decode()
    assert first == "retry: 3000\n\n"
    run_execution(stranger, "theirs")
    mine = run_execution(developer, "mine")
    got = messages(response, 7)
    assert {m["data"]["team"] for m in got} == {"team-a"}
    assert [m["event"] for m in got if m["data"]["execution"] == mine] == [
        "execution.created",
        "execution.started",
        "step.started",
        "step.succeeded",
        "execution.succeeded",
    ]
    assert [m["id"] for m in got] == sorted(m["id"] for m in got)
    sample = got[-1]["data"]
    assert set(sample) == {"id", "type", "time", "team", "application", "execution", "step", "data"}


def test_filters_and_logs_on_request(event_hub: Hub, api: APIClient, developer: Any) -> None:
    start = api.get("/api/events").json()["last_id"]
    wanted = run_execution(developer, "one", logs=True)
    run_execution(developer, "two", logs=True)
    poll(api, f"/api/events?after={start}&app=two&types=execution.succeeded", 1)
    page = api.get(f"/api/events?after={start}&execution={wanted}&types=step.").json()
    assert [e["type"] for e in page["results"]] == ["step.started", "step.succeeded"]
    assert {e["execution"] for e in page["results"]} == {wanted}
    by_app = api.get(f"/api/events?after={start}&app=two&types=execution.succeeded").json()["results"]
    assert [(e["application"], e["type"]) for e in by_app] == [("two", "execution.succeeded")]
    with_logs = api.get(f"/api/events?after={start}&execution={wanted}&types=step.log&logs=true").json()
    assert [e["data"] for e in with_logs["results"]] == [
        {"lines": [{"n": 1, "stream": "stdout", "text": "hello from the step"}]}
    ]
    # Without logs=true no step.log event is sent, whatever types asks for.
    assert api.get(f"/api/events?after={start}&types=step.log").json()["results"] == []


def test_resume_with_last_event_id_loses_nothing(event_hub: Hub, api: APIClient, developer: Any) -> None:
    start = api.get("/api/events").json()["last_id"]
    run_execution(developer, "resumed")
    everything = poll(api, f"/api/events?after={start}", 7)["results"]
    assert len(everything) == 7
    seen = everything[2]["id"]
    response = api.get("/api/events/stream", HTTP_LAST_EVENT_ID=str(seen))
    resumed = messages(response, len(everything) - 3)
    assert [m["id"] for m in resumed] == [e["id"] for e in everything[3:]]
    # The query parameter does the same for clients that cannot set headers.
    response = api.get(f"/api/events/stream?last_event_id={seen}")
    assert [m["id"] for m in messages(response, 1)] == [everything[3]["id"]]


def test_resume_from_a_pruned_id_is_told_to_reset(event_hub: Hub, api: APIClient, developer: Any) -> None:
    run_execution(developer, "old")
    oldest = Event.objects.order_by("id").first()
    assert oldest is not None
    prune_events(keep=2)
    response = api.get("/api/events/stream", HTTP_LAST_EVENT_ID=str(oldest.id))
    (reset,) = messages(response, 1)
    assert reset["event"] == "reset"
    assert api.get(f"/api/events?after={oldest.id}").json()["reset"] is True


def test_bad_filters_are_problems_with_a_path(event_hub: Hub, api: APIClient) -> None:
    response = api.get("/api/events/stream?types=step.bogus")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["path"] == "types" and "unknown event type" in body["errors"][0]["message"]
    assert api.get("/api/events?after=-1").status_code == 400


def test_anonymous_is_refused(event_hub: Hub) -> None:
    assert Client().get("/api/events/stream").status_code == 401


def test_streams_beyond_the_cap_get_503_with_retry_after(
    event_hub: Hub, api: APIClient, settings: Any
) -> None:
    settings.EVENTS_MAX_STREAMS = 1
    first: Any = api.get("/api/events/stream")
    assert first.status_code == 200
    next(iter(first.streaming_content))
    second = api.get("/api/events/stream")
    assert second.status_code == 503 and second["Retry-After"] == "5"
    first.close()  # the stream's slot is given back
    third = api.get("/api/events/stream")
    assert third.status_code == 200
    del third
    gc.collect()  # a body never iterated (the client left at once) gives its slot back too
    assert event_hub.open_streams == 0


def test_shutdown_ends_open_streams(event_hub: Hub, api: APIClient) -> None:
    response: Any = api.get("/api/events/stream")
    stream = iter(response.streaming_content)
    next(stream)
    event_hub.stop()
    assert list(stream) == []  # ends at once, without another keep-alive
    response.close()  # what the server does when a response ends
    assert event_hub.open_streams == 0
