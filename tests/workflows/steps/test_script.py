"""Tests for the script step: real bash subprocesses, streaming, stop handling, outputs, scrubbed env."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.workflows.steps.helpers import StopSwitch, make_ctx, pid_alive, recorder, wait_until
from workflows.steps.base import StepStopped
from workflows.steps.process import MAX_LOG_LINES
from workflows.steps.script import ScriptStep, parse_output_file


def run_script(tmp_path: Path, config: dict, **kwargs):
    ctx = make_ctx(tmp_path, config, **kwargs)
    return ctx, ScriptStep().run(ctx)


def test_inline_script_logs_stdout_and_stderr_separately(tmp_path: Path) -> None:
    ctx, result = run_script(tmp_path, {"script": "echo hello\necho oops >&2\n"})
    assert result.status == "completed", result.error
    assert recorder(ctx).lines("stdout") == ["hello"]
    assert recorder(ctx).lines("stderr") == ["oops"]


def test_lines_are_logged_as_they_arrive_not_at_the_end(tmp_path: Path) -> None:
    ctx, result = run_script(tmp_path, {"script": "echo first\nsleep 1.2\necho second\n"})
    assert result.status == "completed"
    log = recorder(ctx)
    assert log.first_time("second") - log.first_time("first") > 0.9


def test_set_output_lines_and_output_file_become_outputs(tmp_path: Path) -> None:
    script = """
echo "::set-output name=greeting::hello world"
echo "plain line"
echo "url=https://example.test/a=b" >> "$INNOMINATUS_OUTPUT"
{
  echo "notes<<EOF"
  echo "line one"
  echo "line two"
  echo "EOF"
} >> "$INNOMINATUS_OUTPUT"
"""
    ctx, result = run_script(tmp_path, {"script": script})
    assert result.status == "completed", result.error
    assert result.outputs == {
        "greeting": "hello world",
        "url": "https://example.test/a=b",
        "notes": "line one\nline two",
    }
    # Output commands are consumed, not logged.
    assert recorder(ctx).lines("stdout") == ["plain line"]


def test_malformed_output_file_fails_the_step(tmp_path: Path) -> None:
    _, result = run_script(
        tmp_path,
        {"script": 'echo "x<<END" >> "$INNOMINATUS_OUTPUT"\necho unterminated >> "$INNOMINATUS_OUTPUT"'},
    )
    assert result.status == "failed"
    assert "never closed" in result.error


def test_nonzero_exit_fails_with_code_and_last_stderr_lines(tmp_path: Path) -> None:
    _, result = run_script(tmp_path, {"script": "echo preparing\necho 'disk full' >&2\nexit 3\n"})
    assert result.status == "failed"
    assert result.outputs["exit_code"] == 3
    assert "exited with code 3" in result.error
    assert "disk full" in result.error


def test_pipefail_and_errexit_are_on(tmp_path: Path) -> None:
    _, result = run_script(tmp_path, {"script": "false | cat\necho never\n"})
    assert result.status == "failed"
    assert result.outputs["exit_code"] == 1


def test_timeout_kills_the_whole_process_group_including_background_children(tmp_path: Path) -> None:
    script = "sleep 300 &\necho $! > child.pid\necho started\nsleep 300\n"
    started = time.monotonic()
    with pytest.raises(StepStopped, match="timed out"):
        run_script(tmp_path, {"script": script}, timeout=1.0)
    assert time.monotonic() - started < 5
    child = int((tmp_path / "child.pid").read_text())
    assert wait_until(lambda: not pid_alive(child)), f"background child {child} survived"


def test_cancellation_through_check_stop_stops_the_script(tmp_path: Path) -> None:
    stop = StopSwitch()
    stop.stop_after(0.5, "cancelled by alice")
    started = time.monotonic()
    ctx = make_ctx(tmp_path, {"script": "echo $$ > shell.pid\nsleep 300\n"}, stop=stop)
    with pytest.raises(StepStopped, match="cancelled by alice"):
        ScriptStep().run(ctx)
    assert time.monotonic() - started < 5
    shell = int((tmp_path / "shell.pid").read_text())
    assert wait_until(lambda: not pid_alive(shell))


def test_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    step = ScriptStep()
    step.grace_period = 0.5
    ctx = make_ctx(
        tmp_path,
        {"script": "trap '' TERM\necho $$ > shell.pid\nwhile true; do sleep 0.1; done\n"},
        timeout=0.8,
    )
    with pytest.raises(StepStopped):
        step.run(ctx)
    shell = int((tmp_path / "shell.pid").read_text())
    assert wait_until(lambda: not pid_alive(shell))


def test_background_processes_left_behind_are_stopped_when_the_script_ends(tmp_path: Path) -> None:
    script = "sleep 300 >/dev/null 2>&1 &\necho $! > quiet.pid\nsleep 300 &\necho $! > noisy.pid\necho done\n"
    started = time.monotonic()
    _, result = run_script(tmp_path, {"script": script})
    assert result.status == "completed"
    assert time.monotonic() - started < 10
    for name in ("quiet.pid", "noisy.pid"):
        pid = int((tmp_path / name).read_text())
        assert wait_until(lambda pid=pid: not pid_alive(pid)), f"{name} survived"


def test_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    monkeypatch.setenv("SECRET_KEY", "django-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    script = 'env | sort\necho "home=$HOME"\necho "db=${DB_PASSWORD:-unset} sk=${SECRET_KEY:-unset}"\n'
    ctx, result = run_script(
        tmp_path,
        {"script": script, "env": {"REGION": "eu-1", "REPLICAS": 3}},
        env={"RUNTIME_VAR": "from-ctx"},
    )
    assert result.status == "completed"
    text = recorder(ctx).text()
    for secret in ("hunter2", "django-secret", "aws-secret", "DB_PASSWORD", "SECRET_KEY"):
        assert secret not in text.replace("sk=unset", "").replace("db=unset", "")
    assert "db=unset sk=unset" in text
    assert f"home={tmp_path}" in text
    assert "REGION=eu-1" in text
    assert "REPLICAS=3" in text
    assert "RUNTIME_VAR=from-ctx" in text
    assert "INNOMINATUS_STEP=step-1" in text


def test_params_are_inert_data_never_shell_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = {
        "target": f"x; touch {marker}",
        "sub": f"$(touch {marker})",
        "tick": f"`touch {marker}`",
    }
    script = (
        'echo "$PARAM_TARGET"\n'
        'echo "target=$PARAM_TARGET" >> "$INNOMINATUS_OUTPUT"\n'
        "echo $PARAM_SUB $PARAM_TICK\n"
    )
    ctx, result = run_script(tmp_path, {"script": script, "params": hostile})
    assert result.status == "completed", result.error
    assert not marker.exists()
    assert result.outputs["target"] == f"x; touch {marker}"
    assert recorder(ctx).lines("stdout")[0] == f"x; touch {marker}"


def test_params_names_are_normalised(tmp_path: Path) -> None:
    _, result = run_script(
        tmp_path,
        {"script": 'echo "v=$PARAM_APP_NAME" >> "$INNOMINATUS_OUTPUT"', "params": {"app-name": "shop"}},
    )
    assert result.outputs == {"v": "shop"}


def test_command_string_runs_in_bash_and_list_runs_without_a_shell(tmp_path: Path) -> None:
    ctx, result = run_script(tmp_path / "a", {"command": "echo one && echo two"})
    assert result.status == "completed"
    assert recorder(ctx).lines("stdout") == ["one", "two"]
    ctx, result = run_script(
        tmp_path / "b", {"command": ["printf", "%s\\n"], "args": ["a; echo injected", "$HOME"]}
    )
    assert result.status == "completed"
    assert recorder(ctx).lines("stdout") == ["a; echo injected", "$HOME"]


def test_working_directory_is_the_execution_workdir(tmp_path: Path) -> None:
    workdir = tmp_path / "does" / "not" / "exist"
    _, result = run_script(workdir, {"script": 'echo "cwd=$(pwd)" >> "$INNOMINATUS_OUTPUT"'})
    assert result.outputs == {"cwd": str(workdir)}


def test_missing_executable_fails_cleanly(tmp_path: Path) -> None:
    _, result = run_script(tmp_path, {"command": ["/nonexistent/tool"], "args": ["x"]})
    assert result.status == "failed"
    assert "cannot start /nonexistent/tool" in result.error


def test_logged_lines_are_capped_and_long_lines_truncated(tmp_path: Path) -> None:
    script = f"seq 1 {MAX_LOG_LINES + 50}\nhead -c 20000 /dev/zero | tr '\\0' 'x'; echo\necho last\n"
    ctx, result = run_script(tmp_path, {"script": f"head -c 20000 /dev/zero | tr '\\0' 'x'; echo\n{script}"})
    assert result.status == "completed"
    lines = recorder(ctx).lines()
    assert len(lines) == MAX_LOG_LINES + 1
    assert lines[0].startswith("x" * 8000)
    assert lines[0].endswith("[line truncated]")
    assert len(lines[0]) < 8300
    assert "output truncated" in lines[-1]


def test_validate_config_reports_problems() -> None:
    step = ScriptStep()
    assert step.validate_config({"script": "echo hi"}) == []
    assert step.validate_config({"command": ["ls"], "args": ["-l"]}) == []
    assert "config.script or config.command is required" in step.validate_config({})
    assert "config.script and config.command are mutually exclusive" in step.validate_config(
        {"script": "a", "command": "b"}
    )
    assert "config.command must be a string or a list of strings" in step.validate_config({"command": 5})
    problems = step.validate_config({"script": "x", "env": {"BAD-NAME": "1"}})
    assert problems and "not a valid environment variable name" in problems[0]
    assert ScriptStep.aliases == ("policy",)


def test_parse_output_file() -> None:
    assert parse_output_file("a=1\n\nb = two=2\nc<<X\n\nx\nX\n") == {"a": "1", "b": " two=2", "c": "\nx"}
    with pytest.raises(ValueError, match="expected name=value"):
        parse_output_file("just text\n")
    with pytest.raises(ValueError, match="not a valid output name"):
        parse_output_file("bad name=1\n")
