"""The `terraform` step: the real terraform CLI in a per-execution workspace.

Configuration:

- `operation`: `apply` (default), `plan`, `destroy` or `output`.
- The configuration, one of: `main_tf` (inline HCL), `files` ({relative name: content}; mappings
  are written as JSON), or `path` (alias `source`: a module directory, copied; relative paths are
  resolved against the execution's working directory). A step without any reuses what an earlier
  step left in the same workspace.
- `variables`: mapping written to a var file and passed with `-var-file`. When absent, the
  variables an earlier step wrote to the same workspace are reused, so a later `destroy` works.
- `workspace`: workspace name under `<workdir>/terraform/` (default: the step name); steps of one
  execution that name the same workspace share configuration and local state.
- `state_dir`: keep the local state there instead (e.g. a resource's own directory), so it
  survives the execution.
- `env`: extra environment variables (provider credentials …); `binary`: the terraform binary
  (else `$TERRAFORM_BIN`, else `terraform` on PATH).

Outputs are those of `terraform output -json`; `_sensitive` lists the names of sensitive ones so
the runtime can redact and encrypt them, and `plan` adds `_changes` (whether the plan changes
anything).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from workflows.steps.base import Step, StepContext, StepResult
from workflows.steps.isolation import ENGINE_DIR, private_dir
from workflows.steps.process import ProcessResult, env_vars, run_process, safe_name, scrubbed_env

OPERATIONS = ("apply", "plan", "destroy", "output")
VAR_FILE = "innominatus.tfvars.json"
BACKEND_OVERRIDE = "innominatus_backend_override.tf.json"
# Kept when a new configuration replaces the old one: provider cache, lock file, state, our files.
PRESERVED = {
    ".terraform",
    ".terraform.lock.hcl",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    ".innominatus",
}
ERROR_TAIL_LINES = 10


class TerraformError(Exception):
    """A terraform command failed; the message is the step's error."""


class TerraformStep(Step):
    """Runs init, then plan/apply/destroy, then `output -json` with the real terraform CLI."""

    type_name = "terraform"
    # Terraform needs time to write state after SIGTERM before it is killed.
    grace_period: float = 30.0

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        operation = config.get("operation", "apply")
        if operation not in OPERATIONS:
            problems.append(f"config.operation must be one of {', '.join(OPERATIONS)}")
        sources = [
            key for key in ("main_tf", "files", "path", "source") if config.get(key) not in (None, "", {})
        ]
        if len(sources) > 1:
            problems.append(f"config.{sources[0]} and config.{sources[1]} are mutually exclusive")
        if config.get("main_tf") is not None and not isinstance(config.get("main_tf"), str):
            problems.append("config.main_tf must be a string")
        files = config.get("files")
        if files is not None:
            if not isinstance(files, Mapping):
                problems.append("config.files must be a mapping of file name to content")
            else:
                problems.extend(f"config.files: {problem}" for problem in _file_name_problems(files))
        for key in ("path", "source", "state_dir", "workspace", "binary"):
            if config.get(key) is not None and not isinstance(config.get(key), str):
                problems.append(f"config.{key} must be a string")
        workspace = config.get("workspace")
        if isinstance(workspace, str) and workspace and safe_name(workspace) != workspace:
            problems.append("config.workspace may only contain letters, digits, '-' and '_'")
        for key in ("variables", "env"):
            if config.get(key) is not None and not isinstance(config.get(key), Mapping):
                problems.append(f"config.{key} must be a mapping")
        if isinstance(config.get("env"), Mapping):
            try:
                env_vars(config["env"])
            except ValueError as exc:
                problems.append(f"config.env: {exc}")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        config = ctx.config
        binary = _find_binary(config.get("binary"))
        if binary is None:
            return StepResult.fail(
                "terraform binary not found: set config.binary or TERRAFORM_BIN, or install it"
            )
        workdir = Path(ctx.workdir)
        workspace = workdir / "terraform" / safe_name(config.get("workspace") or ctx.step_name)
        try:
            self._prepare_workspace(config, workdir, workspace)
        except (OSError, ValueError) as exc:
            return StepResult.fail(f"cannot prepare the terraform workspace: {exc}")
        runner = _Terraform(ctx, binary, workspace, self.grace_period)
        operation = config.get("operation", "apply")
        var_file = workspace / ".innominatus" / VAR_FILE
        var_args = [f"-var-file={var_file}"] if var_file.is_file() else []
        try:
            runner.run("init", "-input=false", "-no-color", "-reconfigure")
            outputs: dict[str, Any] = {}
            if operation == "plan":
                result = runner.run(
                    "plan", "-input=false", "-no-color", "-detailed-exitcode", *var_args, ok=(0, 2)
                )
                outputs["_changes"] = result.returncode == 2
            elif operation in ("apply", "destroy"):
                runner.run(
                    operation, "-input=false", "-no-color", "-auto-approve", "-lock-timeout=30s", *var_args
                )
            outputs.update(runner.outputs())
        except TerraformError as exc:
            return StepResult.fail(str(exc))
        except OSError as exc:
            return StepResult.fail(f"cannot run {binary}: {exc.strerror or exc}")
        ctx.log(f"terraform {operation} finished in {workspace}", "system")
        return StepResult.ok(**outputs)

    def _prepare_workspace(self, config: Mapping[str, Any], workdir: Path, workspace: Path) -> None:
        """Write the configuration, var file, backend override and CLI config into the workspace."""
        meta = private_dir(workspace / ENGINE_DIR)
        (meta / "terraformrc").touch()
        source_dir = config.get("path") or config.get("source")
        if config.get("main_tf") or config.get("files") or source_dir:
            _clear_configuration(workspace)
        if config.get("main_tf"):
            (workspace / "main.tf").write_text(config["main_tf"], encoding="utf-8")
        elif config.get("files"):
            for name, content in config["files"].items():
                target = workspace / PurePosixPath(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                text = content if isinstance(content, str) else json.dumps(content, indent=2)
                target.write_text(text, encoding="utf-8")
        elif source_dir:
            source = Path(source_dir) if Path(source_dir).is_absolute() else workdir / source_dir
            if not source.is_dir():
                raise ValueError(f"module directory {source} does not exist")
            shutil.copytree(
                source,
                workspace,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".terraform", "terraform.tfstate*", ".git", ".innominatus"),
            )
        if not any(workspace.glob("*.tf")) and not any(workspace.glob("*.tf.json")):
            raise ValueError("no terraform configuration: set config.main_tf, config.files or config.path")
        if config.get("variables") is not None:
            var_file = meta / VAR_FILE
            var_file.write_text(json.dumps(dict(config["variables"]), default=str), encoding="utf-8")
            var_file.chmod(0o600)
        override = workspace / BACKEND_OVERRIDE
        if config.get("state_dir"):
            state_dir = Path(config["state_dir"])
            state_dir = state_dir if state_dir.is_absolute() else workdir / state_dir
            state_dir.mkdir(parents=True, exist_ok=True)
            backend = {"terraform": {"backend": {"local": {"path": str(state_dir / "terraform.tfstate")}}}}
            override.write_text(json.dumps(backend, indent=2), encoding="utf-8")
        elif override.exists():
            override.unlink()


class _Terraform:
    """Runs terraform subcommands in one workspace with the step's environment and stop handling."""

    def __init__(self, ctx: StepContext, binary: str, workspace: Path, grace: float) -> None:
        self.ctx = ctx
        self.binary = binary
        self.workspace = workspace
        self.grace = grace
        self.env = scrubbed_env(
            Path(ctx.workdir),
            {"TF_CLI_CONFIG_FILE": str(workspace / ".innominatus" / "terraformrc")},
            ctx.env,
            env_vars(ctx.config.get("env") or {}),
            {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"},
        )

    def run(self, *args: str, ok: Sequence[int] = (0,), capture: bool = False) -> ProcessResult:
        self.ctx.log("$ terraform " + " ".join(args), "system")
        result = run_process(
            self.ctx,
            [self.binary, *args],
            cwd=self.workspace,
            env=self.env,
            capture_stdout=capture,
            grace=self.grace,
        )
        if result.returncode not in ok:
            tail = result.stderr_tail[-ERROR_TAIL_LINES:] or result.stdout_tail[-ERROR_TAIL_LINES:]
            message = f"terraform {args[0]} failed with exit code {result.returncode}"
            raise TerraformError(message + (":\n" + "\n".join(tail) if tail else ""))
        return result

    def outputs(self) -> dict[str, Any]:
        """Values of `terraform output -json` (never logged) plus the `_sensitive` names."""
        result = self.run("output", "-json", "-no-color", capture=True)
        try:
            raw = json.loads("\n".join(result.stdout) or "{}")
        except json.JSONDecodeError as exc:
            raise TerraformError(f"terraform output -json returned invalid JSON: {exc}") from exc
        outputs: dict[str, Any] = {name: item.get("value") for name, item in raw.items()}
        outputs["_sensitive"] = sorted(name for name, item in raw.items() if item.get("sensitive"))
        self.ctx.log(f"{len(raw)} output(s): {', '.join(sorted(raw)) or 'none'}", "system")
        return outputs


def _find_binary(configured: str | None) -> str | None:
    for candidate in (configured, os.environ.get("TERRAFORM_BIN")):
        if candidate:
            return shutil.which(candidate)
    return shutil.which("terraform")


def _file_name_problems(files: Mapping[str, Any]) -> list[str]:
    problems = []
    for name in files:
        path = PurePosixPath(str(name))
        if not str(name) or path.is_absolute() or ".." in path.parts or "\\" in str(name):
            problems.append(f"{name!r} must be a relative path inside the workspace")
        elif path.parts[0] in PRESERVED:
            problems.append(f"{name!r} is reserved")
    return problems


def _clear_configuration(workspace: Path) -> None:
    """Remove the previous configuration so deleted files do not linger; keep state and providers."""
    for entry in workspace.iterdir():
        if entry.name in PRESERVED or entry.name == BACKEND_OVERRIDE:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
