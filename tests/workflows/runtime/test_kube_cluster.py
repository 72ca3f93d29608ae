"""Cluster discovery: explicit kubeconfig, KUBECONFIG, in-cluster service account, or none (and why)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakekube import FakeKube
from workflows.runtime.cluster import (
    api_client_for,
    cluster_status,
    discover_cluster,
    pod_namespace,
    reset_clients,
)
from workflows.runtime.errors import ClusterUnavailable


def service_account(tmp_path: Path, namespace: str = "platform") -> Path:
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text("sa-token")
    (directory / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (directory / "namespace").write_text(namespace)
    return directory


@pytest.mark.usefixtures("no_cluster")
def test_no_cluster_says_exactly_why() -> None:
    status = cluster_status()
    assert (status.available, status.source) == (False, "none")
    assert status.reason == "no in-cluster service account and KUBECONFIG is not set"
    with pytest.raises(ClusterUnavailable, match="KUBECONFIG is not set"):
        api_client_for(discover_cluster())


def test_kubeconfig_env_points_at_the_cluster(fake_kubeconfig: Path) -> None:
    config = discover_cluster()
    assert (config.source, config.kubeconfig, config.reason) == ("kubeconfig", str(fake_kubeconfig), "")
    assert cluster_status(probe=True).available


def test_explicit_kubeconfig_wins_over_the_environment(
    fake_kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    explicit = fake_kube.write_kubeconfig(tmp_path / "explicit", namespace="team-a")
    config = discover_cluster(str(explicit))
    assert config.kubeconfig == str(explicit) and not config.reason
    assert pod_namespace(config) == "team-a"


def test_missing_kubeconfig_file_is_a_configured_but_unusable_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nope"))
    status = cluster_status()
    assert (status.available, status.source) == (False, "kubeconfig")
    assert status.reason == f"KUBECONFIG file not found: {tmp_path / 'nope'}"


def test_in_cluster_service_account_is_found(tmp_path: Path) -> None:
    directory = service_account(tmp_path)
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    config = discover_cluster(environ=env, serviceaccount_dir=directory)
    assert (config.source, config.reason) == ("in-cluster", "")
    assert pod_namespace(config) == "platform"


def test_service_host_without_a_token_is_not_a_cluster(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    config = discover_cluster(environ=env, serviceaccount_dir=tmp_path / "absent")
    assert config.source == "none"
    assert "no service account token" in config.reason and "KUBECONFIG is not set" in config.reason


def test_unreachable_cluster_fails_the_probe_with_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeKube() as fake:
        path = fake.write_kubeconfig(tmp_path / "kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(path))
    reset_clients()
    status = cluster_status(probe=True)
    assert not status.available and status.source == "kubeconfig"
    assert status.reason.startswith("cluster did not answer")


def test_clients_are_cached_per_configuration_and_rebuilt_when_the_file_changes(
    fake_kube: FakeKube, fake_kubeconfig: Path
) -> None:
    first = api_client_for(discover_cluster())
    assert api_client_for(discover_cluster()) is first
    fake_kube.write_kubeconfig(fake_kubeconfig, namespace="changed")
    stat = fake_kubeconfig.stat()
    os.utime(fake_kubeconfig, (stat.st_atime, stat.st_mtime + 5))
    assert api_client_for(discover_cluster()) is not first


def test_malformed_kubeconfig_is_unavailable_with_the_loader_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\ncontexts: []\n")
    monkeypatch.setenv("KUBECONFIG", str(path))
    reset_clients()
    status = cluster_status()
    assert not status.available
    assert status.reason.startswith("cannot load kubeconfig configuration")
