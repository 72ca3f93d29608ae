"""Tests for the sleep step: it sleeps, and cancellation or a timeout interrupts it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.workflows.steps.helpers import StopSwitch, make_ctx, recorder
from workflows.steps.base import StepStopped
from workflows.steps.sleep import SleepStep


def test_sleeps_for_a_duration_string(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, {"duration": "300ms"})
    started = time.monotonic()
    result = SleepStep().run(ctx)
    assert result.status == "completed"
    assert 0.29 <= time.monotonic() - started < 2
    assert result.outputs == {"slept_seconds": 0.3}
    assert recorder(ctx).lines() == ["sleeping 0.3s"]


def test_accepts_plain_seconds(tmp_path: Path) -> None:
    assert SleepStep().run(make_ctx(tmp_path, {"duration": 0})).status == "completed"


def test_cancellation_interrupts_the_sleep(tmp_path: Path) -> None:
    stop = StopSwitch()
    stop.stop_after(0.3, "cancelled by bob")
    started = time.monotonic()
    with pytest.raises(StepStopped, match="cancelled by bob"):
        SleepStep().run(make_ctx(tmp_path, {"duration": "1h"}, stop=stop))
    assert time.monotonic() - started < 2


def test_timeout_interrupts_the_sleep(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(StepStopped, match="timed out"):
        SleepStep().run(make_ctx(tmp_path, {"duration": "10m"}, timeout=0.3))
    assert time.monotonic() - started < 2


def test_bad_duration_fails(tmp_path: Path) -> None:
    result = SleepStep().run(make_ctx(tmp_path, {"duration": "soon"}))
    assert result.status == "failed"
    assert "config.duration" in result.error


def test_validate_config() -> None:
    assert SleepStep().validate_config({"duration": "5s"}) == []
    assert SleepStep().validate_config({"duration": "{{ parameters.wait }}"}) == []
    assert SleepStep().validate_config({}) == ["config.duration is required"]
    assert SleepStep().validate_config({"duration": "5 parsecs"})[0].startswith("config.duration:")
