"""Pytest fixtures: `fake_kube` (a running fake cluster), `fake_kubeconfig` (KUBECONFIG pointing at it),
and `no_cluster` (no cluster configured at all)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .fake import FakeKube


def _reset_client_cache() -> None:
    # Cached ApiClients are keyed by kubeconfig path and mtime; a fresh fake must not reuse one.
    from workflows.runtime.cluster import reset_clients

    reset_clients()


@pytest.fixture
def fake_kube() -> Iterator[FakeKube]:
    """A fake Kubernetes API server on 127.0.0.1, stopped after the test."""
    fake = FakeKube(rollout_delay=0.2)
    try:
        yield fake
    finally:
        fake.stop()
        _reset_client_cache()


@pytest.fixture
def fake_kubeconfig(fake_kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kubeconfig for `fake_kube`, exported as KUBECONFIG for the duration of the test."""
    path = fake_kube.write_kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    _reset_client_cache()
    return path


@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """No KUBECONFIG and no in-cluster service account: the render-only situation."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    _reset_client_cache()
