"""The adapter over the official Kubernetes client: server-side apply, get, list, delete, rollout."""

from __future__ import annotations

import base64
import binascii
import copy
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient, LazyDiscoverer
from kubernetes.dynamic.exceptions import ResourceNotFoundError, ResourceNotUniqueError

from workflows.runtime.cluster import api_client_for, discover_cluster
from workflows.runtime.errors import KubeError, RolloutTimeout, WaitStopped, from_api_exception
from workflows.runtime.rollout import ROLLOUT_KINDS, RolloutStatus, rollout_status

FIELD_MANAGER = "innominatus"
ROLLOUT_API_VERSIONS = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1"}


class _MemoryDiscoverer(LazyDiscoverer):
    """Lazy API discovery kept in memory: no shared cache file in /tmp to go stale between clusters."""

    def __init__(self, client: Any, cache_file: str | None) -> None:
        # A path that never exists makes the base class discover afresh instead of reading a file.
        missing = Path(tempfile.gettempdir()) / "innominatus-no-discovery-cache" / "never.json"
        super().__init__(client, str(missing))

    def _write_cache(self) -> None:
        return None


_dynamic_clients: weakref.WeakKeyDictionary[k8s_client.ApiClient, DynamicClient] = weakref.WeakKeyDictionary()
_dynamic_lock = threading.Lock()


@contextmanager
def _api_errors(action: str) -> Iterator[None]:
    """Translate client and transport errors into KubeError with the server's own message."""
    try:
        yield
    except ApiException as exc:
        raise from_api_exception(exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise KubeError(0, "Unreachable", f"{action}: {exc}") from exc


def _object_name(manifest: Mapping[str, Any]) -> tuple[str, str, str]:
    api_version = manifest.get("apiVersion")
    kind = manifest.get("kind")
    name = (manifest.get("metadata") or {}).get("name")
    if not (isinstance(api_version, str) and api_version):
        raise KubeError(0, "Invalid", "manifest has no apiVersion")
    if not (isinstance(kind, str) and kind):
        raise KubeError(0, "Invalid", "manifest has no kind")
    if not (isinstance(name, str) and name):
        raise KubeError(0, "Invalid", f"{kind} manifest has no metadata.name")
    return api_version, kind, name


class KubeAdapter:
    """Operations innominatus needs from a cluster, each mapped to clear KubeError exceptions."""

    def __init__(self, api_client: k8s_client.ApiClient) -> None:
        self.api_client = api_client

    @property
    def dynamic(self) -> DynamicClient:
        """One discovering client per ApiClient, shared by threads (discovery happens once)."""
        with _dynamic_lock:
            found = _dynamic_clients.get(self.api_client)
            if found is None:
                with _api_errors("API discovery"):
                    found = DynamicClient(self.api_client, discoverer=_MemoryDiscoverer)
                _dynamic_clients[self.api_client] = found
            return found

    def resource(self, api_version: str, kind: str) -> Any:
        """The API resource type serving `kind` in `api_version`, found by discovery."""
        prefix = "apis" if "/" in api_version else "api"
        dynamic = self.dynamic
        # The lazy discoverer fills shared caches as it searches and is not safe to run concurrently.
        with _dynamic_lock, _api_errors(f"discovery of {kind} {api_version}"):
            try:
                return dynamic.resources.get(prefix=prefix, api_version=api_version, kind=kind)
            except ResourceNotFoundError as exc:
                raise KubeError(
                    404, "NotFound", f"the server has no resource type for kind {kind!r} in {api_version!r}"
                ) from exc
            except ResourceNotUniqueError as exc:
                raise KubeError(0, "Ambiguous", f"kind {kind!r} in {api_version!r} is not unique") from exc

    def _namespace_for(self, resource: Any, namespace: str | None) -> str | None:
        return (namespace or "default") if resource.namespaced else None

    def apply(
        self,
        manifest: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str = FIELD_MANAGER,
        force: bool = True,
    ) -> dict[str, Any]:
        """Server-side apply `manifest`, creating it when missing; `namespace` defaults namespaced kinds."""
        api_version, kind, name = _object_name(manifest)
        resource = self.resource(api_version, kind)
        body = copy.deepcopy(dict(manifest))
        metadata = body.setdefault("metadata", {})
        if resource.namespaced:
            metadata["namespace"] = metadata.get("namespace") or namespace or "default"
        else:
            metadata.pop("namespace", None)
        with _api_errors(f"apply {kind} {name}"):
            result = resource.server_side_apply(
                body=body,
                name=name,
                namespace=metadata.get("namespace"),
                field_manager=field_manager,
                force_conflicts=True if force else None,
            )
        return dict(result.to_dict())

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        resource = self.resource(api_version, kind)
        try:
            with _api_errors(f"get {kind} {name}"):
                result = resource.get(name=name, namespace=self._namespace_for(resource, namespace))
        except KubeError as exc:
            if exc.not_found:
                return None
            raise
        return dict(result.to_dict())

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """Objects of a kind, in one namespace (or all when None), optionally filtered by labels."""
        resource = self.resource(api_version, kind)
        with _api_errors(f"list {kind}"):
            result = resource.get(
                namespace=namespace if resource.namespaced else None, label_selector=label_selector
            )
        return [dict(item) for item in result.to_dict().get("items") or []]

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation_policy: str = "Background",
    ) -> bool:
        """Delete an object; False when it was already gone."""
        resource = self.resource(api_version, kind)
        try:
            with _api_errors(f"delete {kind} {name}"):
                resource.delete(
                    name=name,
                    namespace=self._namespace_for(resource, namespace),
                    propagation_policy=propagation_policy,
                )
        except KubeError as exc:
            if exc.not_found:
                return False
            raise
        return True

    def read_secret(self, namespace: str, name: str, key: str) -> str:
        """One value of a Secret, base64-decoded to text."""
        secret = self.get("v1", "Secret", name, namespace)
        if secret is None:
            raise KubeError(404, "NotFound", f"secret {namespace}/{name} not found")
        encoded = (secret.get("data") or {}).get(key)
        if encoded is None:
            raise KubeError(0, "KeyNotFound", f"secret {namespace}/{name} has no key {key!r}")
        try:
            return base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise KubeError(
                0, "Invalid", f"secret {namespace}/{name} key {key!r} is not base64 text"
            ) from exc

    def wait_for_rollout(
        self,
        namespace: str,
        name: str,
        kind: str = "Deployment",
        *,
        timeout: float = 300.0,
        check_stop: Callable[[], str | None] | None = None,
        poll_interval: float = 1.0,
        on_progress: Callable[[str], None] | None = None,
    ) -> RolloutStatus:
        """Poll until the workload has rolled out, as `kubectl rollout status` decides.

        Raises RolloutFailed, RolloutTimeout, WaitStopped (when `check_stop` gives a reason),
        or whatever `check_stop` itself raises.
        """
        if kind not in ROLLOUT_KINDS:
            raise ValueError(f"rollout status is not available for kind {kind!r}")
        deadline = time.monotonic() + timeout
        last_message = ""
        while True:
            _check(check_stop)
            obj = self.get(ROLLOUT_API_VERSIONS[kind], kind, name, namespace)
            if obj is None:
                raise KubeError(404, "NotFound", f"{kind.lower()} {namespace}/{name} not found")
            status = rollout_status(obj)
            if status.done:
                return status
            if status.message != last_message:
                last_message = status.message
                if on_progress is not None:
                    on_progress(status.message)
            left = deadline - time.monotonic()
            if left <= 0:
                raise RolloutTimeout(
                    f"{kind.lower()} {namespace}/{name} did not roll out within {timeout:g}s: {last_message}"
                )
            _sleep(min(poll_interval, left), check_stop)


def _check(check_stop: Callable[[], str | None] | None) -> None:
    if check_stop is not None:
        reason = check_stop()
        if reason:
            raise WaitStopped(reason)


def _sleep(seconds: float, check_stop: Callable[[], str | None] | None, tick: float = 0.1) -> None:
    """Sleep in small ticks so a stop request is noticed promptly."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        _check(check_stop)
        time.sleep(min(tick, left))


def connect(kubeconfig: str | None = None) -> KubeAdapter:
    """An adapter for the configured cluster (explicit kubeconfig, KUBECONFIG, or in-cluster)."""
    return KubeAdapter(api_client_for(discover_cluster(kubeconfig)))
