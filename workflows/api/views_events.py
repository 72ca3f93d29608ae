"""`GET /api/events/stream` (Server-Sent Events) and `GET /api/events` (JSON polling).

Authenticated, throttled and team-scoped like every API view; see docs/events.md for the protocol and
workflows/events/ for where the events come from. A stream holds a server thread (gunicorn gthread)
but no database connection while it waits; each process serves at most EVENTS_MAX_STREAMS of them.
"""

import json
import threading
import weakref
from collections.abc import Callable, Generator, Iterator
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows.api.errors import problems
from workflows.events import reader
from workflows.events.hub import Hub, hub

RETRY_MILLISECONDS = 3000
PAGE = 500


class EventStreamRenderer(BaseRenderer):
    """Lets clients ask for `text/event-stream`; errors before the stream starts are JSON bodies."""

    media_type = "text/event-stream"
    format = "event-stream"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data).encode() if data is not None else b""


class EventQuerySerializer(serializers.Serializer):
    """Filters shared by the stream and the polling endpoint."""

    app = serializers.CharField(required=False, default="", allow_blank=True, help_text="Application name.")
    execution = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Execution id (wf-…)."
    )
    types = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="Comma-separated event types; a prefix ending in '.' matches a family, e.g. step.",
    )
    logs = serializers.BooleanField(required=False, default=False, help_text="Also step.log events.")

    def validate_types(self, value: str) -> tuple[str, ...]:
        try:
            return reader.parse_types(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class StreamQuerySerializer(EventQuerySerializer):
    last_event_id = serializers.IntegerField(
        required=False, min_value=0, help_text="Resume after this id (the Last-Event-ID header wins)."
    )


class PollQuerySerializer(EventQuerySerializer):
    after = serializers.IntegerField(required=False, min_value=0, help_text="Events with a larger id.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=1000, default=PAGE)


# One event (also the `data:` of a stream message). Built inline: a declared field named `data`
# would hide Serializer.data.
EventSerializer = inline_serializer(
    name="Event",
    fields={
        "id": serializers.IntegerField(),
        "type": serializers.CharField(),
        "time": serializers.DateTimeField(),
        "team": serializers.CharField(),
        "application": serializers.CharField(),
        "execution": serializers.CharField(),
        "step": serializers.CharField(),
        "data": serializers.DictField(),
    },
)


class EventPageSerializer(serializers.Serializer):
    results = serializers.ListField(child=EventSerializer)
    last_id = serializers.IntegerField(help_text="Pass as `after` to the next poll.")
    reset = serializers.BooleanField(
        help_text="True when events after `after` were pruned: reload what you show, then poll from last_id."
    )


class TooManyStreams(exceptions.APIException):
    """503 problem with Retry-After (DRF sets the header from `wait`)."""

    status_code = 503
    default_code = "too_many_streams"
    wait = 5


def _scope(request: Request, query: dict[str, Any]) -> reader.Scope:
    return reader.Scope.for_user(
        request.user, app=query["app"], execution=query["execution"], types=query["types"], logs=query["logs"]
    )


def _horizon(events: Hub) -> int:
    horizon = events.horizon()
    if horizon is None:
        raise TooManyStreams("The event stream is not ready yet; retry shortly.")
    return horizon


class EventPollView(APIView):
    """Events after `after`, for clients that poll."""

    required_permissions = "workflows:read"

    @extend_schema(
        tags=["events"],
        summary="Poll events",
        description=(
            "Events after `after` (all teams' events you may see), oldest first. Without `after`, none: "
            "`last_id` tells where to start. Event types and fields: see the stream."
        ),
        parameters=[PollQuerySerializer],
        responses={200: EventPageSerializer, **problems(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = PollQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        horizon = _horizon(hub())
        after = data.get("after")
        if after is None:
            return Response({"results": [], "last_id": horizon, "reset": False})
        if reader.needs_reset(after):
            return Response({"results": [], "last_id": horizon, "reset": True})
        scope = _scope(request, data)
        events = reader.read(scope, after, horizon, data["limit"])
        # A full page ends at its last event; otherwise nothing visible is left up to the horizon.
        last = events[-1]["id"] if len(events) == data["limit"] else max(after, horizon)
        return Response({"results": reader.with_lines(events), "last_id": last, "reset": False})


class EventStreamView(APIView):
    """The live stream."""

    required_permissions = "workflows:read"
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        tags=["events"],
        summary="Stream events (Server-Sent Events)",
        description=(
            "A `text/event-stream` of state changes of executions, steps, resources and applications "
            "of your teams. Each message: `id: <n>`, `event: <type>`, `data: <event JSON>`. Resume with "
            "the `Last-Event-ID` header; `event: reset` means the events after that id were pruned "
            "(reload what you show). `: keep-alive` comments every 15 s; `retry: 3000` first. "
            "503 with Retry-After when this server process holds its maximum of open streams."
        ),
        parameters=[
            StreamQuerySerializer,
            OpenApiParameter("Last-Event-ID", OpenApiTypes.INT, OpenApiParameter.HEADER, required=False),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR, description="The event stream."),
            **problems(400, 401, 403),
            503: OpenApiResponse(description="Too many open streams on this server process; retry later."),
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        query = StreamQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        header = request.headers.get("Last-Event-ID", "").strip()
        resume = int(header) if header.isdigit() else data.get("last_event_id")
        scope = _scope(request, data)
        events = hub()
        if not events.acquire_stream(settings.EVENTS_MAX_STREAMS):
            raise TooManyStreams(
                "This server process holds its maximum of open event streams; retry shortly."
            )
        try:
            horizon = _horizon(events)
            reset = resume is not None and reader.needs_reset(resume)
            reader.release_connection()
        except BaseException:
            events.release_stream()
            raise
        start = horizon if resume is None or reset else resume
        response = StreamingHttpResponse(
            _Stream(events, scope, start, reset), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies must pass each message on at once
        return response


class _Stream:
    """The response body. Its slot among the process's streams is given back exactly once: when the
    messages end (server stop, client gone), when the server closes the response, or at the latest
    when the body is collected (a client that left before the first message)."""

    def __init__(self, events: Hub, scope: reader.Scope, cursor: int, reset: bool) -> None:
        released = threading.Event()

        def release() -> None:
            if not released.is_set():
                released.set()
                events.release_stream()

        self._release = release
        self._messages = _stream(events, scope, cursor, reset, release)
        weakref.finalize(self, release)

    def __iter__(self) -> Iterator[str]:
        return self._messages

    def close(self) -> None:
        self._messages.close()
        self._release()
        reader.release_connection()


def _format(event: dict[str, Any]) -> str:
    return f"id: {event['id']}\nevent: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _stream(
    events: Hub, scope: reader.Scope, cursor: int, reset: bool, release: Callable[[], None]
) -> Generator[str, None, None]:
    """The messages of one stream; ends when the server stops (the client reconnects elsewhere)."""
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        if reset:
            yield f"id: {cursor}\nevent: reset\ndata: {json.dumps({'last_id': cursor})}\n\n"
        keepalive = settings.EVENTS_KEEPALIVE_SECONDS
        generation = events.generation
        while not events.stopping:
            cursor, sent = yield from _send_new(events, scope, cursor)
            if sent:
                continue  # a full page: read on before waiting
            moved = events.wait(generation, keepalive)
            if moved == generation and not events.stopping:
                yield ": keep-alive\n\n"
            generation = moved
    finally:
        release()
        reader.release_connection()


def _send_new(events: Hub, scope: reader.Scope, cursor: int) -> Generator[str, None, tuple[int, bool]]:
    """Send what is visible after `cursor`; returns (new cursor, whether a full page was read)."""
    recent = events.since(cursor)
    if recent is not None:
        batch, horizon = recent
        chosen = [event for event in batch if scope.admits(event)]
        full = False
    else:  # further back than memory reaches: from the table, a page at a time
        horizon = events.horizon() or cursor
        chosen = reader.read(scope, cursor, horizon, PAGE)
        full = len(chosen) == PAGE
        if full:
            horizon = chosen[-1]["id"]
    if scope.logs and any(event["type"] == "step.log" for event in chosen):
        chosen = reader.with_lines(chosen)
    reader.release_connection()  # a no-op when nothing was read from the table
    for event in chosen:
        yield _format(event)
    return max(cursor, horizon), full
