"""The `git` step: commit files (rendered manifests) to a Git repository and push them (GitOps).

Configuration: `repository` (URL, local path or file:// URL), `branch` (default `main`; created
when missing, from `base_branch` or the remote's default branch), `files` ({path: content};
mappings and lists are written as YAML for .yaml/.yml files, else as JSON), `delete` (paths to
remove), `message`, `author_name`/`author_email` (default `innominatus <innominatus@localhost>`),
`token` (and `username`, default `innominatus`) for HTTPS authentication.

Paths are confined to the repository: absolute paths, `..`, `.git` and symlinks leading outside
are refused. The token reaches git only through a GIT_ASKPASS helper reading it from the
environment, never in a URL, a log line or the repository's config. Git runs with a scrubbed
environment: HOME is the working directory, no system or global config, no terminal prompts,
and only the file, git, http(s) and ssh transports. Nothing is committed when nothing changed;
a push rejected as non-fast-forward is retried once after rebasing onto the remote branch.
Outputs: `commit` (sha), `branch`, `changed` and `repository` (without credentials).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from workflows.steps.base import Step, StepContext, StepResult
from workflows.steps.isolation import ENGINE_DIR, private_dir
from workflows.steps.process import DEFAULT_GRACE, ProcessResult, run_process, safe_name, scrubbed_env

DEFAULT_AUTHOR = ("innominatus", "innominatus@localhost")
BRANCH_NAME = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/-]+(?<!\.lock)(?<![/.])$")
REJECTED_PUSH = ("non-fast-forward", "fetch first", "[rejected]", "failed to push some refs")
ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$INNOMINATUS_GIT_USERNAME" ;;
  *) printf '%s\\n' "$INNOMINATUS_GIT_TOKEN" ;;
esac
"""
ERROR_TAIL_LINES = 10


class GitError(Exception):
    """A git command failed; the message is the step's error."""


class GitStep(Step):
    """Clones, writes files, commits when something changed, and pushes."""

    type_name = "git"
    grace_period: float = DEFAULT_GRACE

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        repository = config.get("repository")
        if not repository:
            problems.append("config.repository is required")
        elif not isinstance(repository, str) or repository.startswith(("-", "ext::")):
            problems.append("config.repository must be a URL or a path")
        branch = config.get("branch", "main")
        for key in ("branch", "base_branch"):
            value = config.get(key)
            if value is not None and (not isinstance(value, str) or not BRANCH_NAME.match(value)):
                problems.append(f"config.{key} is not a valid branch name")
        if not isinstance(branch, str):
            problems.append("config.branch must be a string")
        files = config.get("files")
        if files is not None and not isinstance(files, Mapping):
            problems.append("config.files must be a mapping of path to content")
        delete = config.get("delete")
        if delete is not None and not (isinstance(delete, list) and all(isinstance(p, str) for p in delete)):
            problems.append("config.delete must be a list of paths")
        for name in [
            *(files if isinstance(files, Mapping) else {}),
            *(delete if isinstance(delete, list) else []),
        ]:
            problem = path_problem(str(name))
            if problem:
                problems.append(f"path {name!r}: {problem}")
        for key in ("message", "author_name", "author_email", "token", "username"):
            if config.get(key) is not None and not isinstance(config.get(key), str):
                problems.append(f"config.{key} must be a string")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        config = ctx.config
        url, username, token = split_credentials(config["repository"])
        token = config.get("token") or token
        username = config.get("username") or username or "innominatus"
        branch = config.get("branch", "main")
        workdir = Path(ctx.workdir)
        meta = workdir / ".innominatus" / safe_name(ctx.step_name)
        checkout = workdir / "git" / safe_name(ctx.step_name)
        if checkout.exists():
            shutil.rmtree(checkout)
        private_dir(private_dir(workdir / ENGINE_DIR) / safe_name(ctx.step_name))
        git = _Git(ctx, self._env(ctx, meta, username, token), self.grace_period)
        try:
            git.run(workdir, "clone", "-q", "--no-tags", "--", url, str(checkout))
            self._checkout_branch(git, checkout, branch, config.get("base_branch"))
            _apply_changes(ctx, checkout, config.get("files") or {}, config.get("delete") or [])
            git.run(checkout, "add", "-A")
            staged = git.run(checkout, "diff", "--cached", "--quiet", ok=(0, 1))
            if staged.returncode == 0:
                ctx.log(f"nothing changed on {branch}; no commit", "system")
                head = git.run(checkout, "rev-parse", "--verify", "-q", "HEAD", ok=(0, 1), capture=True)
                commit = head.stdout[0] if head.returncode == 0 and head.stdout else ""
                return StepResult.ok(commit=commit, branch=branch, changed=False, repository=display_url(url))
            message = (
                config.get("message") or f"innominatus: {ctx.app_name} ({ctx.execution_id}, {ctx.step_name})"
            )
            git.run(checkout, "commit", "-q", "--no-verify", "-m", message)
            self._push(git, checkout, branch)
            commit = git.run(checkout, "rev-parse", "HEAD", capture=True).stdout[0]
        except GitError as exc:
            return StepResult.fail(str(exc))
        except (OSError, ValueError) as exc:
            return StepResult.fail(f"git step failed: {exc}")
        ctx.log(f"pushed {commit[:12]} to {branch} of {display_url(url)}", "system")
        return StepResult.ok(commit=commit, branch=branch, changed=True, repository=display_url(url))

    def _env(self, ctx: StepContext, meta: Path, username: str, token: str | None) -> dict[str, str]:
        author_name = ctx.config.get("author_name") or DEFAULT_AUTHOR[0]
        author_email = ctx.config.get("author_email") or DEFAULT_AUTHOR[1]
        settings = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
            "GIT_AUTHOR_NAME": author_name,
            "GIT_AUTHOR_EMAIL": author_email,
            "GIT_COMMITTER_NAME": author_name,
            "GIT_COMMITTER_EMAIL": author_email,
        }
        if token:
            askpass = meta / "askpass.sh"
            askpass.write_text(ASKPASS)
            askpass.chmod(0o700)
            settings.update(
                {
                    "GIT_ASKPASS": str(askpass),
                    "INNOMINATUS_GIT_USERNAME": username,
                    "INNOMINATUS_GIT_TOKEN": token,
                }
            )
        # The runtime's env may configure SSH (a key, known hosts); our safety settings come last.
        return scrubbed_env(Path(ctx.workdir), {"GIT_SSH_COMMAND": "ssh -o BatchMode=yes"}, ctx.env, settings)

    def _checkout_branch(self, git: _Git, checkout: Path, branch: str, base_branch: str | None) -> None:
        remote = git.run(checkout, "ls-remote", "--heads", "origin", f"refs/heads/{branch}", capture=True)
        if any(line.strip() for line in remote.stdout):
            git.run(checkout, "checkout", "-q", "-B", branch, f"origin/{branch}")
            return
        has_commits = git.run(checkout, "rev-parse", "--verify", "-q", "HEAD", ok=(0, 1), capture=True)
        if has_commits.returncode != 0:
            git.run(checkout, "checkout", "-q", "--orphan", branch)
        elif base_branch:
            git.run(checkout, "checkout", "-q", "-b", branch, f"origin/{base_branch}")
        else:
            git.run(checkout, "checkout", "-q", "-b", branch)

    def _push(self, git: _Git, checkout: Path, branch: str) -> None:
        refspec = f"HEAD:refs/heads/{branch}"
        first = git.run(checkout, "push", "-q", "origin", refspec, ok=None)
        if first.returncode == 0:
            return
        if not any(marker in line for line in first.stderr_tail for marker in REJECTED_PUSH):
            raise GitError(_failure("push", first))
        git.ctx.log("push rejected: the branch moved; rebasing onto it and retrying once", "system")
        rebase = git.run(checkout, "pull", "-q", "--rebase", "origin", branch, ok=None)
        if rebase.returncode != 0:
            git.run(checkout, "rebase", "--abort", ok=None)
            raise GitError(_failure("pull --rebase (conflicting concurrent change?)", rebase))
        git.run(checkout, "push", "-q", "origin", refspec)


class _Git:
    """Runs git commands with the step's scrubbed environment, logging each command."""

    def __init__(self, ctx: StepContext, env: dict[str, str], grace: float) -> None:
        self.ctx = ctx
        self.env = env
        self.grace = grace

    def run(
        self, cwd: Path, *args: str, ok: tuple[int, ...] | None = (0,), capture: bool = False
    ) -> ProcessResult:
        """Run `git args`; GitError unless the exit code is in `ok` (None accepts any)."""
        shown = [display_url(arg) if "://" in arg else arg for arg in args]
        self.ctx.log("$ git " + " ".join(shown), "system")
        result = run_process(
            self.ctx, ["git", *args], cwd=cwd, env=self.env, capture_stdout=capture, grace=self.grace
        )
        if ok is not None and result.returncode not in ok:
            raise GitError(_failure(args[0], result))
        return result


def _failure(what: str, result: ProcessResult) -> str:
    tail = result.stderr_tail[-ERROR_TAIL_LINES:] or result.stdout_tail[-ERROR_TAIL_LINES:]
    message = f"git {what} failed with exit code {result.returncode}"
    return message + (":\n" + "\n".join(tail) if tail else "")


def path_problem(name: str) -> str:
    """Why a repository path is unacceptable, or "" when it is a plain relative path."""
    pure = PurePosixPath(name)
    if not name or not pure.parts:
        return "empty path"
    if pure.is_absolute() or "\\" in name:
        return "must be a relative path"
    if ".." in pure.parts:
        return "must not contain '..'"
    if any(part.lower() == ".git" for part in pure.parts):
        return "must not touch .git"
    return ""


def confined(root: Path, name: str) -> Path:
    """The path `name` inside `root`; ValueError when it is unsafe or a symlink leads outside."""
    problem = path_problem(name)
    if problem:
        raise ValueError(f"path {name!r}: {problem}")
    target = root.joinpath(*PurePosixPath(name).parts)
    if not target.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"path {name!r} leads outside the repository")
    return target


def _apply_changes(ctx: StepContext, root: Path, files: Mapping[str, Any], delete: list[str]) -> None:
    for name in delete:
        target = confined(root, name)
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        else:
            ctx.log(f"{name}: already absent", "system")
    for name, content in files.items():
        target = confined(root, str(name))
        if target.is_symlink():
            target.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_serialise(str(name), content), encoding="utf-8")


def _serialise(name: str, content: Any) -> str:
    if isinstance(content, str):
        return content
    if name.endswith((".yaml", ".yml")):
        return yaml.safe_dump(content, sort_keys=False)
    return json.dumps(content, indent=2, sort_keys=True) + "\n"


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """The URL without user:password, and the username and password it carried."""
    parts = urlsplit(url) if "://" in url else None
    # ssh URLs carry the login user (git@…), which is not a credential.
    if parts is None or parts.scheme not in ("http", "https"):
        return url, None, None
    if parts.username is None and parts.password is None:
        return url, None, None
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), parts.username, parts.password


def display_url(url: str) -> str:
    """A URL safe to log: no credentials."""
    return split_credentials(url)[0]
