"""The `ansible` step: the real `ansible-playbook` (Debian package `ansible`) against localhost.

Configuration:

- The playbook, one of: `playbook` (a file name, resolved against the execution's working
  directory, as the original resolved it against its own) or `content` (the playbook's YAML text,
  or a list of plays written as YAML).
- `vars` (alias `extra_vars`): a mapping passed with `-e @file` (JSON), never on the command line.
- `inventory`: default `localhost,` with the local connection; `limit`, `tags`: passed through.
- `env`: extra environment variables; `binary`: the binary (else `$ANSIBLE_PLAYBOOK_BIN`, else
  `ansible-playbook` on PATH).

Runs like the `terraform` step: in its own workspace under `<workdir>/ansible/<step>`, under the
step supervisor (cancellation, timeouts, the unprivileged step user), output streamed to the log.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from workflows.steps.base import Step, StepContext, StepResult
from workflows.steps.process import env_vars, run_process, safe_name, scrubbed_env

ERROR_TAIL_LINES = 10


def _binary(configured: Any) -> str | None:
    for candidate in (configured, os.environ.get("ANSIBLE_PLAYBOOK_BIN")):
        if candidate:
            return shutil.which(str(candidate))
    return shutil.which("ansible-playbook")


class AnsibleStep(Step):
    """Runs one playbook with ansible-playbook; the step fails with the tail of its output."""

    type_name = "ansible"

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems = []
        if not config.get("playbook") and not config.get("content"):
            problems.append("config.playbook (a file) or config.content (the playbook) is required")
        variables = config.get("vars", config.get("extra_vars"))
        if variables is not None and not isinstance(variables, Mapping):
            problems.append("config.vars must be a mapping")
        content = config.get("content")
        if content is not None and not isinstance(content, str | list):
            problems.append("config.content must be the playbook's YAML text or a list of plays")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        config = ctx.config
        binary = _binary(config.get("binary"))
        if binary is None:
            return StepResult.fail("ansible-playbook not found: install the Debian package `ansible`")
        workdir = Path(ctx.workdir)
        workspace = workdir / "ansible" / safe_name(ctx.step_name)
        try:
            playbook = self._prepare(config, workdir, workspace)
        except (OSError, ValueError) as exc:
            return StepResult.fail(f"cannot prepare the ansible workspace: {exc}")
        argv = [binary, "-i", str(config.get("inventory") or "localhost,"), str(playbook)]
        if not config.get("inventory"):
            argv += ["-c", "local"]
        variables = config.get("vars", config.get("extra_vars"))
        if variables:
            var_file = workspace / "extra-vars.json"
            var_file.write_text(json.dumps(variables), encoding="utf-8")
            argv += ["-e", f"@{var_file}"]
        for key in ("limit", "tags"):
            if config.get(key):
                argv += [f"--{key}", str(config[key])]
        env = scrubbed_env(
            workdir,
            ctx.env,
            env_vars(config.get("env") or {}),
            {
                "ANSIBLE_HOME": str(workspace / ".ansible"),
                "ANSIBLE_LOCAL_TEMP": str(workspace / ".ansible" / "tmp"),
                "ANSIBLE_REMOTE_TEMP": str(workspace / ".ansible" / "tmp"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_RETRY_FILES_ENABLED": "0",
                "ANSIBLE_HOST_KEY_CHECKING": "0",
                "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
            },
        )
        ctx.log(f"$ ansible-playbook {playbook.name}", "system")
        try:
            result = run_process(ctx, argv, cwd=workspace, env=env)
        except OSError as exc:
            return StepResult.fail(f"cannot run {binary}: {exc.strerror or exc}")
        if result.returncode != 0:
            tail = result.stdout_tail[-ERROR_TAIL_LINES:] or result.stderr_tail[-ERROR_TAIL_LINES:]
            message = f"ansible-playbook failed with exit code {result.returncode}"
            return StepResult.fail(message + (":\n" + "\n".join(tail) if tail else ""))
        return StepResult.ok(playbook=playbook.name)

    def _prepare(self, config: Mapping[str, Any], workdir: Path, workspace: Path) -> Path:
        workspace.mkdir(parents=True, exist_ok=True)
        (workspace / ".ansible" / "tmp").mkdir(parents=True, exist_ok=True)
        for path in (workspace, workspace / ".ansible", workspace / ".ansible" / "tmp"):
            path.chmod(0o777)  # the step's process may run as another (unprivileged) user
        content = config.get("content")
        if content is not None:
            text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
            target = workspace / "playbook.yml"
            target.write_text(text, encoding="utf-8")
            return target
        name = str(config["playbook"])
        source = (workdir / name).resolve()
        if not source.is_relative_to(workdir.resolve()):
            raise ValueError(f"playbook {name!r} is outside the execution's working directory")
        if not source.is_file():
            raise ValueError(f"playbook {name!r} not found in the execution's working directory")
        return source
