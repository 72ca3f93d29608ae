"""The `script` step (alias `policy`): a bash script or command in a scrubbed, killable subprocess.

Configuration:

- `script`: inline bash, run as a file with `bash -eo pipefail`; or
- `command`: a string run by `bash -eo pipefail -c`, or a list (argv, no shell); with `args`
  (a list) the command is executed directly as `[command, *args]`, again without a shell.
- `env`: mapping of extra environment variables; `params`: mapping exported as `PARAM_<NAME>`.

The engine renders templates in the whole config before the step sees it, so a template inside
`script` text is spliced into the shell source. Never put user-supplied values (parameters,
variables, outputs of other steps) into `script` or `command` text: pass them through `params`
or `env` and read them as quoted variables (`"$PARAM_NAME"`), where the shell never parses them.

The process starts from a minimal environment (PATH, HOME=workdir, LANG, TZ, TMPDIR) plus the
runtime's `ctx.env`, `env`, `params` and `INNOMINATUS_*` variables (among them the idempotency keys
`INNOMINATUS_IDEMPOTENCY_KEY`, `INNOMINATUS_ATTEMPT_ID`, `INNOMINATUS_STEP_ID`); the worker's own
environment (database password, secret key …) never reaches it. It runs under a supervisor that ends
it with its worker, as `ctx.run_as` when set, and leaves its exit code for the reaper (`evidence`). Outputs come from `::set-output name=k::v`
lines on stdout and from the file named by `$INNOMINATUS_OUTPUT` (`k=v` lines, or `k<<EOF`
… `EOF` for multi-line values); a script that sets none and ends by printing a JSON object (the
original innominatus's convention) outputs that object's keys.
"""

from __future__ import annotations

import collections
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workflows.steps.base import Step, StepContext, StepResult
from workflows.steps.isolation import ENGINE_DIR, RUNS_DIR, private_dir
from workflows.steps.process import DEFAULT_GRACE, env_vars, run_dir, run_process, safe_name, scrubbed_env

# How many trailing stdout lines may hold a JSON object of outputs (the original's convention).
JSON_TAIL_LINES = 200
SET_OUTPUT = re.compile(r"^::set-output name=([A-Za-z_][A-Za-z0-9_.-]*)::(.*)$")
OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
ERROR_TAIL_LINES = 10


class ScriptStep(Step):
    """Runs inline bash or a command in the execution's working directory."""

    type_name = "script"
    aliases = ("policy",)
    # Seconds between SIGTERM and SIGKILL when the step is stopped.
    grace_period: float = DEFAULT_GRACE

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        script, command, args = config.get("script"), config.get("command"), config.get("args")
        if script in (None, "") and command in (None, "", []):
            problems.append("config.script or config.command is required")
        if script not in (None, "") and command not in (None, "", []):
            problems.append("config.script and config.command are mutually exclusive")
        if script is not None and not isinstance(script, str):
            problems.append("config.script must be a string")
        if command is not None and not (
            isinstance(command, str)
            or (isinstance(command, list) and all(isinstance(c, str) for c in command))
        ):
            problems.append("config.command must be a string or a list of strings")
        if args is not None and not isinstance(args, list):
            problems.append("config.args must be a list")
        if args and script not in (None, ""):
            problems.append("config.args only applies to config.command")
        for key, prefix, normalise in (("env", "", False), ("params", "PARAM_", True)):
            value = config.get(key)
            if value is None:
                continue
            if not isinstance(value, Mapping):
                problems.append(f"config.{key} must be a mapping")
                continue
            try:
                env_vars(value, prefix=prefix, normalise=normalise)
            except ValueError as exc:
                problems.append(f"config.{key}: {exc}")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        workdir = Path(ctx.workdir)
        meta_dir = private_dir(private_dir(workdir / ENGINE_DIR) / safe_name(ctx.step_name))
        output_file = meta_dir / "outputs"
        output_file.unlink(missing_ok=True)
        output_file.write_text("")
        argv = self._argv(ctx.config, meta_dir)
        env = scrubbed_env(
            workdir,
            ctx.env,
            env_vars(ctx.config.get("env") or {}),
            env_vars(ctx.config.get("params") or {}, prefix="PARAM_", normalise=True),
            {
                "INNOMINATUS_OUTPUT": str(output_file),
                "INNOMINATUS_WORKDIR": str(workdir),
                "INNOMINATUS_EXECUTION_ID": ctx.execution_id,
                "INNOMINATUS_APP": ctx.app_name,
                "INNOMINATUS_STEP": ctx.step_name,
                "INNOMINATUS_STEP_ID": "" if ctx.step_id is None else str(ctx.step_id),
                "INNOMINATUS_ATTEMPT": str(ctx.attempt),
                "INNOMINATUS_ATTEMPT_ID": ctx.attempt_id(),
                "INNOMINATUS_IDEMPOTENCY_KEY": ctx.idempotency_key(),
            },
        )
        outputs: dict[str, str] = {}
        recent: collections.deque[str] = collections.deque(maxlen=JSON_TAIL_LINES)

        def collect(stream: str, line: str) -> bool:
            match = SET_OUTPUT.match(line) if stream == "stdout" else None
            if match:
                outputs[match.group(1)] = match.group(2)
            elif stream == "stdout":
                recent.append(line)
            return match is not None

        try:
            result = run_process(
                ctx,
                argv,
                cwd=workdir,
                env=env,
                on_line=collect,
                grace=self.grace_period,
                result_file=run_dir(workdir, ctx.step_name) / result_name(ctx.attempt),
            )
        except OSError as exc:
            return StepResult.fail(f"cannot start {argv[0]}: {exc.strerror or exc}")
        tail = result.stderr_tail[-ERROR_TAIL_LINES:] or result.stdout_tail[-ERROR_TAIL_LINES:]
        found = _result(result.returncode, output_file, outputs, tail)
        if found.status == "completed" and not found.outputs:
            # The original's convention: a script that ends by printing a JSON object outputs its keys.
            found.outputs.update(trailing_json(list(recent)))
        return found

    def evidence(self, workdir: Path, step_name: str, attempt: int) -> StepResult | None:
        """The attempt's result from the file its supervisor wrote when the script ended on its own."""
        path = workdir / ENGINE_DIR / RUNS_DIR / safe_name(step_name) / result_name(attempt)
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
            returncode = int(recorded["exit"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        output_file = workdir / ENGINE_DIR / safe_name(step_name) / "outputs"
        return _result(returncode, output_file, {}, [])

    def _argv(self, config: Mapping[str, Any], meta_dir: Path) -> list[str]:
        bash = shutil.which("bash") or "/bin/bash"
        script = config.get("script")
        if script:
            script_file = meta_dir / "script.sh"
            script_file.write_text(str(script), encoding="utf-8")
            return [bash, "-eo", "pipefail", str(script_file)]
        command = config["command"]
        args = [str(arg) for arg in config.get("args") or []]
        if isinstance(command, list):
            return [*command, *args]
        if args:
            return [command, *args]
        return [bash, "-eo", "pipefail", "-c", command]


def result_name(attempt: int) -> str:
    """The supervisor's result file of one attempt."""
    return f"attempt-{attempt}.json"


def _result(returncode: int, output_file: Path, outputs: dict[str, str], tail: list[str]) -> StepResult:
    """The step's result from the exit code, the output file and the `::set-output` lines seen."""
    try:
        outputs.update(parse_output_file(output_file.read_text(encoding="utf-8", errors="replace")))
    except FileNotFoundError:
        pass
    except ValueError as exc:
        return StepResult.fail(f"$INNOMINATUS_OUTPUT: {exc}", exit_code=returncode)
    if returncode != 0:
        error = f"script exited with code {_describe_exit(returncode)}"
        if tail:
            error += ":\n" + "\n".join(tail)
        return StepResult.fail(error, exit_code=returncode, **outputs)
    return StepResult.ok(**outputs)


def trailing_json(lines: list[str]) -> dict[str, Any]:
    """The JSON object the output ends with (scalars as text, like other outputs), or {}."""
    for start in range(len(lines) - 1, -1, -1):
        if not lines[start].lstrip().startswith("{"):
            continue
        try:
            document = json.loads("\n".join(lines[start:]))
        except ValueError:
            continue
        if isinstance(document, dict):
            return {
                str(k): v if isinstance(v, dict | list) else ("" if v is None else str(v))
                for k, v in document.items()
            }
        return {}
    return {}


def parse_output_file(text: str) -> dict[str, str]:
    """Outputs from `k=v` lines and `k<<DELIM` … `DELIM` blocks (GitHub Actions' GITHUB_OUTPUT format)."""
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            name, delimiter = name.strip(), delimiter.strip()
            if not delimiter:
                raise ValueError(f"line {index}: empty delimiter for {name!r}")
            body: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index >= len(lines):
                raise ValueError(f"delimiter {delimiter!r} for {name!r} was never closed")
            index += 1
            value = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            name = name.strip()
        else:
            raise ValueError(f"line {index}: expected name=value or name<<DELIMITER")
        if not OUTPUT_NAME.match(name):
            raise ValueError(f"line {index}: {name!r} is not a valid output name")
        outputs[name] = value
    return outputs


def _describe_exit(returncode: int) -> str:
    # Popen reports death by signal N as -N.
    return f"{returncode} (killed by signal {-returncode})" if returncode < 0 else str(returncode)
