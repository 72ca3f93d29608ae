"""The command line against real processes: gunicorn + `manage.py worker` (tests/e2e/conftest.py) and
the fake Kubernetes API server; the CLI itself runs as a subprocess (`python -m innominatus.cli`)."""

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.accounts.conftest import oidc, start_provider  # noqa: F401 - fixtures
from tests.e2e.conftest import ROOT, Processes, process_env, processes  # noqa: F401 - fixtures
from tests.fakekube import FakeKube


@dataclass
class Cli:
    """Runs innominatus-ctl with its own config directory against one server."""

    server: str
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INNOMINATUS_", "DJANGO_", "PYTEST"))}
        env.update({"XDG_CONFIG_HOME": str(self.home), "INNOMINATUS_URL": self.server, "COLUMNS": "200"})
        env.update(self.extra_env)
        return env

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "innominatus.cli", *args],
            cwd=ROOT,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "innominatus.cli", *args],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def login(self, username: str = "dev") -> None:
        result = self.run("login", "-u", username, "--password-stdin", stdin=f"pw-{username}\n")
        assert result.returncode == 0, result.stdout + result.stderr


def show(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture
def platform(
    processes: Processes,  # noqa: F811 - the fixture imported above
    fake_kube: FakeKube,
    tmp_path: Path,
) -> Callable[..., Cli]:
    """Start gunicorn and a worker (deploying to the fake cluster); returns a factory of CLI runners."""
    kubeconfig = fake_kube.write_kubeconfig(tmp_path / "kubeconfig")
    kubeconfig.chmod(0o644)
    processes.worker(extra_env={"KUBECONFIG": str(kubeconfig)})
    url = processes.gunicorn()
    count = 0

    def make(**extra_env: Any) -> Cli:
        nonlocal count
        count += 1
        home = tmp_path / f"cli-home-{count}"
        home.mkdir()
        return Cli(server=url, home=home, extra_env={k: str(v) for k, v in extra_env.items()})

    return make
