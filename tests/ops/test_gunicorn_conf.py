"""gunicorn_conf.py: JSON logging config, start-time hooks and multi-process metric files."""

import importlib.util
import io
import json
import logging
import logging.config
import os
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from innominatus import metricsdir
from tests.ops.servers import REPO


def load_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> ModuleType:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location(
        "gunicorn_conf_under_test", REPO / "innominatus" / "gunicorn_conf.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_come_from_the_environment_and_fail_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load_conf(monkeypatch, PORT="9001", GUNICORN_WORKERS="3", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    assert conf.bind.endswith(":9001") and conf.workers == 3
    assert conf.metrics_dir == str(tmp_path) and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="GUNICORN_WORKERS"):
        load_conf(monkeypatch, GUNICORN_WORKERS="many")


def _build(spec: dict[str, Any]) -> Any:
    factory = spec["()"]
    module, _, name = factory.rpartition(".")
    return getattr(importlib.import_module(module), name)()


def test_gunicorn_logs_are_json_lines_without_probe_access_lines(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load_conf(monkeypatch, GUNICORN_ACCESS_LOG="true", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    config = conf.logconfig_dict
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler_spec = config["handlers"]["stdout"]
    handler.setFormatter(_build(config["formatters"][handler_spec["formatter"]]))
    for name in handler_spec["filters"]:
        handler.addFilter(_build(config["filters"][name]))
    loggers = {}
    for name in ("gunicorn.error", "gunicorn.access"):
        spec = config["loggers"][name]
        assert spec["propagate"] is False and spec["handlers"] == ["stdout"]
        # A detached logger, so the test leaves the process' real gunicorn loggers alone.
        logger = logging.Logger(name, spec["level"])  # noqa: LOG001
        logger.addHandler(handler)
        for filter_name in spec.get("filters", []):
            logger.addFilter(_build(config["filters"][filter_name]))
        loggers[name] = logger
    loggers["gunicorn.error"].info("Booting worker with pid: %s", 42)
    atoms = {"m": "GET", "U": "/api/workflows", "s": "200", "D": 2500, "h": "127.0.0.1", "a": "test"}
    loggers["gunicorn.access"].info("%(h)s", atoms)
    loggers["gunicorn.access"].info("%(h)s", {**atoms, "U": "/health"})
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["gunicorn.error", "gunicorn.access"]
    assert lines[0]["message"] == "Booting worker with pid: 42" and lines[0]["level"] == "info"
    assert lines[1]["path"] == "/api/workflows" and lines[1]["duration_ms"] == 2.5
    assert (
        load_conf(monkeypatch, GUNICORN_ACCESS_LOG="false").logconfig_dict["loggers"]["gunicorn.access"][
            "level"
        ]
        == "WARNING"
    )


def test_hooks_record_the_start_and_clean_up_after_dead_processes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Recorded by monkeypatch, so the hook's changes to the environment are undone after the test.
    conf = load_conf(
        monkeypatch,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
        INNOMINATUS_STARTED_AT="",
        INNOMINATUS_MASTER_PID="",
    )
    dead_pid = 4_194_305  # above the kernel's pid_max: never a live process
    for name in (f"counter_{dead_pid}.db", f"counter_{os.getpid()}.db", f"gauge_livesum_{os.getpid()}.db"):
        (tmp_path / name).write_bytes(b"")
    server = SimpleNamespace(log=SimpleNamespace(info=lambda *a: None))
    conf.on_starting(server)
    assert float(os.environ["INNOMINATUS_STARTED_AT"]) > 0
    assert os.environ["INNOMINATUS_MASTER_PID"] == str(os.getpid())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{os.getpid()}.db",
        f"gauge_livesum_{os.getpid()}.db",
    ]

    conf.child_exit(server, SimpleNamespace(pid=os.getpid()))
    assert [p.name for p in tmp_path.iterdir()] == [f"counter_{os.getpid()}.db"]


def test_an_empty_multiproc_dir_means_in_memory_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    from innominatus.env import Env

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    assert metricsdir.configure(Env()) == ""
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_the_default_metrics_directory_belongs_to_one_installation(tmp_path: Path) -> None:
    from innominatus.env import Env

    first = metricsdir.default_dir(Env({"INNOMINATUS_DATA_DIR": str(tmp_path / "one")}))
    second = metricsdir.default_dir(Env({"INNOMINATUS_DATA_DIR": str(tmp_path / "two")}))
    assert first == tmp_path / "one" / "metrics" and second == tmp_path / "two" / "metrics"
