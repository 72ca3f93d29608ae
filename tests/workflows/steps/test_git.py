"""Tests for the git step with real git: a local bare repository, and a smart-HTTP server needing a token."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.workflows.steps.helpers import LogRecorder, make_ctx, recorder
from workflows.steps.git import GitStep, display_url, path_problem

GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "someone",
    "GIT_AUTHOR_EMAIL": "someone@example.test",
    "GIT_COMMITTER_NAME": "someone",
    "GIT_COMMITTER_EMAIL": "someone@example.test",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    bare.mkdir()
    git(bare, "init", "-q", "--bare", "--initial-branch=main")
    return bare


def fresh_clone(remote: Path, tmp_path: Path, name: str = "verify", branch: str = "main") -> Path:
    target = tmp_path / name
    git(tmp_path, "clone", "-q", "--branch", branch, str(remote), str(target))
    return target


def push_commit(remote: Path, tmp_path: Path, name: str, files: dict[str, str], message: str) -> None:
    clone = tmp_path / name
    if not clone.exists():
        git(tmp_path, "clone", "-q", str(remote), str(clone))
    for path, content in files.items():
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text(content)
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", message)
    git(clone, "push", "-q", "origin", "HEAD:refs/heads/main")


def run_git_step(tmp_path: Path, config: dict, **kwargs: Any):
    ctx = make_ctx(tmp_path / "work", config, step_type="git", step_name="gitops", **kwargs)
    return ctx, GitStep().run(ctx)


def test_first_commit_to_an_empty_bare_repository(tmp_path: Path, remote: Path) -> None:
    config = {
        "repository": str(remote),
        "files": {
            "apps/shop/deployment.yaml": {"apiVersion": "apps/v1", "kind": "Deployment"},
            "README.md": "# GitOps\n",
        },
        "message": "deploy shop",
    }
    _, result = run_git_step(tmp_path, config)
    assert result.status == "completed", result.error
    assert result.outputs["changed"] is True
    assert result.outputs["branch"] == "main"
    clone = fresh_clone(remote, tmp_path)
    assert git(clone, "rev-parse", "HEAD") == result.outputs["commit"]
    assert git(clone, "log", "--format=%s|%an|%ae") == "deploy shop|innominatus|innominatus@localhost"
    assert (clone / "README.md").read_text() == "# GitOps\n"
    assert (clone / "apps/shop/deployment.yaml").read_text() == "apiVersion: apps/v1\nkind: Deployment\n"


def test_updates_deletes_and_custom_author(tmp_path: Path, remote: Path) -> None:
    push_commit(remote, tmp_path, "seed", {"old.yaml": "x: 1\n", "keep.txt": "keep\n"}, "seed")
    config = {
        "repository": f"file://{remote}",
        "files": {"new.json": {"b": 1, "a": 2}},
        "delete": ["old.yaml", "never-existed.txt"],
        "author_name": "Platform Bot",
        "author_email": "bot@example.test",
    }
    ctx, result = run_git_step(tmp_path, config)
    assert result.status == "completed", result.error
    clone = fresh_clone(remote, tmp_path)
    assert git(clone, "log", "--format=%an <%ae>", "-1") == "Platform Bot <bot@example.test>"
    assert git(clone, "log", "--format=%s", "-1") == "innominatus: demo (wf-test1234, gitops)"
    assert sorted(p.name for p in clone.iterdir() if p.name != ".git") == ["keep.txt", "new.json"]
    assert (clone / "new.json").read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    assert "never-existed.txt: already absent" in recorder(ctx).lines()


def test_no_changes_makes_no_commit(tmp_path: Path, remote: Path) -> None:
    push_commit(remote, tmp_path, "seed", {"app.yaml": "replicas: 2\n"}, "seed")
    head = git(remote, "rev-parse", "main")
    _, result = run_git_step(tmp_path, {"repository": str(remote), "files": {"app.yaml": "replicas: 2\n"}})
    assert result.status == "completed", result.error
    assert result.outputs == {"commit": head, "branch": "main", "changed": False, "repository": str(remote)}
    assert git(remote, "rev-parse", "main") == head


def test_creates_a_new_branch_from_the_default_branch(tmp_path: Path, remote: Path) -> None:
    push_commit(remote, tmp_path, "seed", {"base.txt": "base\n"}, "seed")
    _, result = run_git_step(
        tmp_path, {"repository": str(remote), "branch": "env/staging", "files": {"s.txt": "s"}}
    )
    assert result.status == "completed", result.error
    clone = fresh_clone(remote, tmp_path, branch="env/staging")
    assert git(clone, "log", "--format=%s").splitlines()[1] == "seed"
    assert (clone / "base.txt").exists() and (clone / "s.txt").exists()
    assert git(remote, "rev-parse", "main") != result.outputs["commit"]


class PushRacer(LogRecorder):
    """A log callback that lands someone else's commit on the remote just before the step commits."""

    def __init__(self, race: Any) -> None:
        super().__init__()
        self.race = race

    def __call__(self, message: str, stream: str = "stdout") -> None:
        super().__call__(message, stream)
        if message.startswith("$ git commit") and self.race is not None:
            race, self.race = self.race, None
            race()


def test_non_fast_forward_push_is_retried_after_rebase(tmp_path: Path, remote: Path) -> None:
    push_commit(remote, tmp_path, "seed", {"a.txt": "a\n"}, "seed")
    racer = PushRacer(lambda: push_commit(remote, tmp_path, "other", {"b.txt": "b\n"}, "concurrent change"))
    ctx, result = run_git_step(
        tmp_path, {"repository": str(remote), "files": {"c.txt": "c\n"}, "message": "ours"}, log=racer
    )
    assert result.status == "completed", result.error
    assert "push rejected: the branch moved; rebasing onto it and retrying once" in recorder(ctx).lines()
    clone = fresh_clone(remote, tmp_path)
    assert git(clone, "log", "--format=%s").splitlines() == ["ours", "concurrent change", "seed"]
    assert git(clone, "rev-parse", "HEAD") == result.outputs["commit"]


def test_conflicting_concurrent_change_fails_cleanly(tmp_path: Path, remote: Path) -> None:
    push_commit(remote, tmp_path, "seed", {"a.txt": "a\n"}, "seed")
    racer = PushRacer(lambda: push_commit(remote, tmp_path, "other", {"a.txt": "theirs\n"}, "theirs"))
    _, result = run_git_step(tmp_path, {"repository": str(remote), "files": {"a.txt": "ours\n"}}, log=racer)
    assert result.status == "failed"
    assert "pull --rebase" in result.error
    assert git(remote, "log", "--format=%s", "main").splitlines() == ["theirs", "seed"]


@pytest.mark.parametrize(
    "path", ["../escape.txt", "/etc/passwd", "a/../../b", ".git/config", "sub/.GIT/hooks/x"]
)
def test_path_traversal_is_refused(tmp_path: Path, remote: Path, path: str) -> None:
    _, result = run_git_step(tmp_path, {"repository": str(remote), "files": {path: "pwned"}})
    assert result.status == "failed"
    assert repr(path) in result.error
    assert not (tmp_path / "escape.txt").exists()
    _, result = run_git_step(tmp_path, {"repository": str(remote), "delete": [path]})
    assert result.status == "failed"


def test_symlink_leading_outside_is_refused(tmp_path: Path, remote: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(remote), str(seed))
    (seed / "link").symlink_to(outside)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "symlink")
    git(seed, "push", "-q", "origin", "HEAD:refs/heads/main")
    _, result = run_git_step(tmp_path, {"repository": str(remote), "files": {"link/owned.txt": "x"}})
    assert result.status == "failed"
    assert "leads outside the repository" in result.error
    assert not (outside / "owned.txt").exists()


def test_clone_failure_reports_git_error(tmp_path: Path) -> None:
    _, result = run_git_step(tmp_path, {"repository": str(tmp_path / "missing.git"), "files": {"a": "b"}})
    assert result.status == "failed"
    assert "git clone failed" in result.error


def test_git_runs_without_global_config_or_worker_secrets(
    tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n  name = Leaked Global\n  email = leak@example.test\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    _, result = run_git_step(tmp_path, {"repository": str(remote), "files": {"a.txt": "a"}})
    assert result.status == "completed", result.error
    assert git(fresh_clone(remote, tmp_path), "log", "--format=%an") == "innominatus"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def git_http_app(project_root: Path, username: str, token: str) -> Any:
    """Smart-HTTP git server over `git http-backend` (CGI) that demands HTTP basic auth."""
    expected = "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode()
    backend = Path(subprocess.run(["git", "--exec-path"], capture_output=True, text=True).stdout.strip())
    seen: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ.get("HTTP_AUTHORIZATION", ""))
        if environ.get("HTTP_AUTHORIZATION") != expected:
            start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="git"')])
            return [b"unauthorized"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        cgi_env = {
            "GIT_PROJECT_ROOT": str(project_root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": username,
            "REMOTE_ADDR": "127.0.0.1",
            "PATH": os.environ["PATH"],
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
        }
        for key in (
            "PATH_INFO",
            "REQUEST_METHOD",
            "QUERY_STRING",
            "CONTENT_TYPE",
            "HTTP_CONTENT_ENCODING",
            "GIT_PROTOCOL",
        ):
            if environ.get(key):
                cgi_env[key] = environ[key]
        if environ.get("HTTP_GIT_PROTOCOL"):
            cgi_env["GIT_PROTOCOL"] = environ["HTTP_GIT_PROTOCOL"]
        cgi_env["CONTENT_LENGTH"] = str(len(body))
        output = subprocess.run(
            [str(backend / "git-http-backend")], input=body, env=cgi_env, capture_output=True
        ).stdout
        head, _, payload = output.partition(b"\r\n\r\n")
        status = "200 OK"
        headers = []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = value.strip()
            elif name:
                headers.append((name, value.strip()))
        start_response(status, headers)
        return [payload]

    app.seen = seen  # type: ignore[attr-defined]
    return app


@pytest.fixture
def http_remote(tmp_path: Path) -> Iterator[tuple[str, Path, Any]]:
    root = tmp_path / "srv"
    (root / "repo.git").mkdir(parents=True)
    git(root / "repo.git", "init", "-q", "--bare", "--initial-branch=main")
    git(root / "repo.git", "config", "http.receivepack", "true")
    app = git_http_app(root, "innominatus", "s3cret-token")
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/repo.git", root / "repo.git", app
    server.shutdown()
    server.server_close()


def test_token_authenticates_over_http_and_never_appears_in_logs(
    tmp_path: Path, http_remote: tuple[str, Path, Any]
) -> None:
    url, bare, app = http_remote
    ctx, result = run_git_step(
        tmp_path, {"repository": url, "token": "s3cret-token", "files": {"a.txt": "a"}}
    )
    assert result.status == "completed", result.error
    assert git(bare, "rev-parse", "main") == result.outputs["commit"]
    assert any(auth.startswith("Basic ") for auth in app.seen)
    assert "s3cret-token" not in recorder(ctx).text()
    checkout_config = (tmp_path / "work" / "git" / "gitops" / ".git" / "config").read_text()
    assert "s3cret-token" not in checkout_config


def test_missing_token_fails_without_prompting(tmp_path: Path, http_remote: tuple[str, Path, Any]) -> None:
    url, _, _ = http_remote
    _, result = run_git_step(tmp_path, {"repository": url, "files": {"a.txt": "a"}}, timeout=30)
    assert result.status == "failed"
    assert "git clone failed" in result.error


def test_credentials_in_the_url_are_moved_out_of_it(
    tmp_path: Path, http_remote: tuple[str, Path, Any]
) -> None:
    url, _, _ = http_remote
    with_creds = url.replace("http://", "http://innominatus:s3cret-token@")
    ctx, result = run_git_step(tmp_path, {"repository": with_creds, "files": {"a.txt": "a"}})
    assert result.status == "completed", result.error
    assert result.outputs["repository"] == url
    assert "s3cret-token" not in recorder(ctx).text()


def test_helpers() -> None:
    assert display_url("https://u:p@git.example.test:8443/r.git") == "https://git.example.test:8443/r.git"
    assert display_url("ssh://git@host/r.git") == "ssh://git@host/r.git"
    assert path_problem("apps/x.yaml") == ""
    assert path_problem("../x") and path_problem("/x") and path_problem(".git/x") and path_problem("")


def test_validate_config() -> None:
    step = GitStep()
    assert step.validate_config({"repository": "https://git.example.test/r.git", "files": {"a": "b"}}) == []
    assert "config.repository is required" in step.validate_config({})
    assert "config.repository must be a URL or a path" in step.validate_config(
        {"repository": "--upload-pack=x"}
    )
    assert "config.branch is not a valid branch name" in step.validate_config(
        {"repository": "r", "branch": "a..b"}
    )
    assert any(
        "must not contain '..'" in p for p in step.validate_config({"repository": "r", "files": {"../a": ""}})
    )
