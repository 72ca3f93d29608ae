"""Where the cluster is: an explicit kubeconfig, KUBECONFIG, the in-cluster service account, or none."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from workflows.runtime.errors import ClusterUnavailable

SERVICEACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
ClusterSource = Literal["kubeconfig", "in-cluster", "none"]


@dataclass(frozen=True)
class ClusterConfig:
    """How to reach the cluster, found from the environment at call time (never at import time)."""

    source: ClusterSource
    kubeconfig: str = ""
    serviceaccount_dir: Path = SERVICEACCOUNT_DIR
    # Why there is no usable cluster (empty when there is one).
    reason: str = ""

    def cache_key(self) -> tuple[object, ...]:
        """Identity of the configuration, changing when a kubeconfig file is rewritten."""
        stamps: list[float] = []
        for path in _kubeconfig_paths(self.kubeconfig):
            try:
                stamps.append(path.stat().st_mtime)
            except OSError:
                stamps.append(-1.0)
        return (self.source, self.kubeconfig, str(self.serviceaccount_dir), tuple(stamps))


@dataclass(frozen=True)
class ClusterStatus:
    """Whether a cluster can be used, which source configures it, and why not when it cannot."""

    available: bool
    source: ClusterSource
    reason: str = ""


def _kubeconfig_paths(kubeconfig: str) -> list[Path]:
    return [Path(part).expanduser() for part in kubeconfig.split(os.pathsep) if part]


def discover_cluster(
    kubeconfig: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    serviceaccount_dir: Path = SERVICEACCOUNT_DIR,
) -> ClusterConfig:
    """Pick the cluster source: explicit kubeconfig, then KUBECONFIG, then the in-cluster service account."""
    env = os.environ if environ is None else environ
    path = kubeconfig or env.get("KUBECONFIG", "")
    if path:
        missing = [str(p) for p in _kubeconfig_paths(path) if not p.is_file()]
        origin = "kubeconfig" if kubeconfig else "KUBECONFIG"
        if missing:
            return ClusterConfig("kubeconfig", path, reason=f"{origin} file not found: {', '.join(missing)}")
        return ClusterConfig("kubeconfig", path)
    token = serviceaccount_dir / "token"
    if env.get("KUBERNETES_SERVICE_HOST"):
        if token.is_file():
            return ClusterConfig("in-cluster", serviceaccount_dir=serviceaccount_dir)
        return ClusterConfig(
            "none",
            reason=(
                f"KUBERNETES_SERVICE_HOST is set but there is no service account token at {token} "
                "and KUBECONFIG is not set"
            ),
        )
    return ClusterConfig("none", reason="no in-cluster service account and KUBECONFIG is not set")


def cluster_status(kubeconfig: str | None = None, *, probe: bool = False) -> ClusterStatus:
    """Whether a cluster is configured (and, with `probe`, answering); the reason says why not."""
    config = discover_cluster(kubeconfig)
    if config.reason:
        return ClusterStatus(False, config.source, config.reason)
    try:
        api = api_client_for(config)
        if probe:
            k8s_client.VersionApi(api).get_code(_request_timeout=5)
    except ClusterUnavailable as exc:
        return ClusterStatus(False, config.source, exc.message)
    except Exception as exc:
        # Any transport or TLS failure means "not reachable"; the message says which.
        return ClusterStatus(False, config.source, f"cluster did not answer: {exc}")
    return ClusterStatus(True, config.source)


def pod_namespace(config: ClusterConfig) -> str:
    """The namespace this process runs in (in-cluster) or the kubeconfig context's namespace."""
    if config.source == "in-cluster":
        try:
            return (config.serviceaccount_dir / "namespace").read_text().strip() or "default"
        except OSError:
            return "default"
    if config.source == "kubeconfig" and not config.reason:
        try:
            _, current = k8s_config.list_kube_config_contexts(config_file=config.kubeconfig)
        except (ConfigException, OSError):
            return "default"
        return str((current or {}).get("context", {}).get("namespace") or "default")
    return "default"


_clients: dict[tuple[object, ...], k8s_client.ApiClient] = {}
_clients_lock = threading.Lock()


def api_client_for(config: ClusterConfig) -> k8s_client.ApiClient:
    """An ApiClient for `config`, cached per process (urllib3 pools are thread-safe)."""
    if config.reason or config.source == "none":
        raise ClusterUnavailable(config.reason or "no cluster is configured")
    key = config.cache_key()
    with _clients_lock:
        cached = _clients.get(key)
        if cached is not None:
            return cached
        api = _build_client(config)
        _clients[key] = api
        return api


def _build_client(config: ClusterConfig) -> k8s_client.ApiClient:
    configuration = k8s_client.Configuration()
    try:
        if config.source == "kubeconfig":
            k8s_config.load_kube_config(
                config_file=config.kubeconfig, client_configuration=configuration, persist_config=False
            )
        else:
            loader = k8s_config.incluster_config.InClusterConfigLoader(
                token_filename=str(config.serviceaccount_dir / "token"),
                cert_filename=str(config.serviceaccount_dir / "ca.crt"),
            )
            loader.load_and_set(configuration)
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
        raise ClusterUnavailable(f"cannot load {config.source} configuration: {exc}") from exc
    return k8s_client.ApiClient(configuration=configuration)


def reset_clients() -> None:
    """Drop cached clients (tests, or after credentials rotate)."""
    with _clients_lock:
        clients = list(_clients.values())
        _clients.clear()
    for api in clients:
        api.close()
