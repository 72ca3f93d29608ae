"""JSON log lines: context fields from bind(), request fields on access lines, secrets redacted."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from innominatus.logcontext import ContextFilter, bind
from ops.logging import ConsoleFormatter, GunicornAccessFilter, JsonFormatter, RedactSecretsFilter, redact


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The stdout handler of settings.LOGGING, writing to a buffer instead of stdout."""
    config = settings.LOGGING
    assert config["formatters"]["json"]["()"] == "ops.logging.JsonFormatter"
    assert config["handlers"]["stdout"]["filters"] == ["context", "redact"]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_a_line_inside_bind_carries_the_workflow_context(captured: io.StringIO) -> None:
    log = logging.getLogger("workflows.engine")
    with bind(workflow_id="wf-0123456789ab", app_name="shop", step="migrate-db"):
        log.warning("step %s failed", "migrate-db", extra={"attempt": 2})
    log.warning("outside")
    inside, outside = lines(captured)
    assert inside["level"] == "warning"
    assert inside["message"] == "step migrate-db failed"
    assert inside["logger"] == "workflows.engine"
    assert inside["timestamp"].endswith("Z") and "T" in inside["timestamp"]
    assert inside["workflow_id"] == "wf-0123456789ab"
    assert inside["app_name"] == "shop"
    assert inside["step"] == "migrate-db"
    assert inside["attempt"] == 2
    assert "workflow_id" not in outside


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting with password=hunter2 to db", "hunter2"),
        ('{"password": "s3cr3t-value", "user": "x"}', "s3cr3t-value"),
        ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "eyJhbGciOiJSUzI1NiJ9"),
        ("header authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("used key inn_AbCdEf0123456789xyz for the call", "AbCdEf0123456789xyz"),
        ("DSN postgres://app:pa55word@db:5432/x", "pa55word"),
        ("PGPASSWORD=topsecret pg_dump", "topsecret"),
        ("client_secret: abcdef123", "abcdef123"),
    ],
)
def test_known_secret_patterns_are_redacted(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert "[REDACTED]" in cleaned


def test_ordinary_words_are_left_alone() -> None:
    text = "password reset requested; token bucket refilled; secret outputs stored encrypted"
    assert redact(text) == text


def test_secrets_in_arguments_extras_and_tracebacks_never_reach_the_output(captured: io.StringIO) -> None:
    log = logging.getLogger("ops.test")
    try:
        raise RuntimeError("login failed with password=opensesame")
    except RuntimeError:
        log.exception(
            "call with %s", "Authorization: Bearer abc.def.ghi", extra={"dsn": "redis://u:pw123@r:6379"}
        )
    output = captured.getvalue()
    for secret in ("opensesame", "abc.def.ghi", "pw123"):
        assert secret not in output
    record = lines(captured)[0]
    assert "RuntimeError" in record["exc_info"]


@pytest.mark.django_db
def test_requests_write_one_access_line_with_request_fields(
    client: Client, captured: io.StringIO, make_user: Any
) -> None:
    make_user("alice")
    client.login(username="alice", password="pw-alice")
    client.get("/api/grafana/dashboards/innominatus", HTTP_X_REQUEST_ID="req-123")
    client.get("/health")
    client.get("/metrics")
    access = [line for line in lines(captured) if line["logger"] == "innominatus.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-123"
    assert line["method"] == "GET"
    assert line["path"] == "/api/grafana/dashboards/innominatus"
    assert line["status"] == 200
    assert line["user"] == "alice"
    assert isinstance(line["duration_ms"], float)


def test_console_format_appends_the_context() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.workflow_id = "wf-1"
    assert ConsoleFormatter().format(record).endswith("hello world [workflow_id=wf-1]")


def test_gunicorn_access_records_become_fields_and_probes_are_dropped() -> None:
    def access(path: str) -> logging.LogRecord:
        atoms = {"m": "POST", "U": path, "s": "201", "D": 1500, "h": "10.0.0.1", "a": "curl"}
        return logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(h)s %(r)s", (atoms,), None)

    access_filter = GunicornAccessFilter()
    assert access_filter.filter(access("/health")) is False
    assert access_filter.filter(access("/metrics")) is False
    record = access("/api/applications")
    assert access_filter.filter(record) is True
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "POST /api/applications 201"
    assert data["status"] == 201 and data["duration_ms"] == 1.5 and data["method"] == "POST"
