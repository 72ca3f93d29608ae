"""FakeKube: the fake API server as tests use it — start, point a kubeconfig at it, steer it, inspect it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .cluster import seed_objects
from .discovery import Catalogue, ResourceType
from .rbac import RBAC_KINDS, Authorizer, service_account_user
from .server import Fault, RequestRecord, ServerState, start_server
from .store import Store


def write_kubeconfig(
    url: str, path: Path, *, token: str = "fake-token", namespace: str | None = None
) -> Path:
    """Write a kubeconfig whose current context points at `url` with a bearer token."""
    context: dict[str, Any] = {"cluster": "fake", "user": "fake"}
    if namespace:
        context["namespace"] = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "fake", "user": {"token": token}}],
        "contexts": [{"name": "fake", "context": context}],
        "current-context": "fake",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


class FakeKube:
    """A running fake cluster. `url` is its address; `store` holds every object."""

    def __init__(
        self, *, token: str = "fake-token", rollout_delay: float = 0.2, realistic: bool = True
    ) -> None:
        self.catalogue = Catalogue()
        self.store = Store(self.catalogue)
        self.store.rollout_delay = rollout_delay
        if realistic:
            for manifest in seed_objects():
                self.put(manifest, manager="kube-apiserver")
        self.token = token
        self.state = ServerState(self.catalogue, self.store, token=token)
        self._server, _, self._stop = start_server(self.state)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self._stop()

    def __enter__(self) -> FakeKube:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(self, path: Path, *, namespace: str | None = None) -> Path:
        return write_kubeconfig(self.url, path, token=self.token, namespace=namespace)

    # -- RBAC -----------------------------------------------------------------------------------

    def enforce_rbac(self, manifests: list[dict[str, Any]]) -> None:
        """Decide requests of ServiceAccount tokens with the RBAC objects among `manifests` (for
        instance `helm template` output); the admin token keeps every right."""
        with self.state.lock:
            self.state.authorizer = Authorizer.from_manifests(
                m for m in manifests if m.get("kind") in RBAC_KINDS
            )

    def service_account_token(self, namespace: str, name: str) -> str:
        """A bearer token that authenticates as the ServiceAccount `namespace/name`."""
        token = f"sa-{namespace}-{name}"
        with self.state.lock:
            self.state.users[token] = service_account_user(namespace, name)
        return token

    def write_service_account_kubeconfig(
        self, path: Path, namespace: str, name: str, *, context_namespace: str | None = None
    ) -> Path:
        """A kubeconfig that talks to this server as the ServiceAccount `namespace/name`."""
        token = self.service_account_token(namespace, name)
        return write_kubeconfig(self.url, path, token=token, namespace=context_namespace)

    # -- steering -------------------------------------------------------------------------------

    @property
    def rollout_delay(self) -> float:
        return self.store.rollout_delay

    @rollout_delay.setter
    def rollout_delay(self, seconds: float) -> None:
        self.store.rollout_delay = seconds

    def never_ready(self, name: str, namespace: str | None = None) -> None:
        """Keep a workload rolling out forever (for rollout timeouts)."""
        self.store.never_ready.add(f"{namespace}/{name}" if namespace else name)

    def exceed_deadline(self, name: str, namespace: str | None = None) -> None:
        """Make a Deployment report ProgressDeadlineExceeded."""
        self.store.deadline_exceeded.add(f"{namespace}/{name}" if namespace else name)

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` matching resource requests (not discovery) with `status`."""
        fault = Fault(status, message or f"injected failure {status}", method, path_contains, times)
        with self.state.lock:
            self.state.faults.append(fault)

    # -- inspection -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        with self.state.lock:
            return list(self.state.requests)

    def resource_type(self, kind: str, api_version: str | None = None) -> ResourceType:
        for rt in self.catalogue.types:
            if rt.kind == kind and (api_version is None or rt.api_version == api_version):
                return rt
        raise KeyError(f"the fake server does not serve {kind} {api_version or ''}".strip())

    def get_object(
        self, kind: str, name: str, namespace: str | None = None, *, api_version: str | None = None
    ) -> dict[str, Any] | None:
        """The stored object as the server would return it, or None."""
        rt = self.resource_type(kind, api_version)
        with self.store.lock:
            entry = self.store.entries.get(self.store.key(rt, namespace or "default", name))
            return None if entry is None else self.store.view(entry)

    def objects(
        self, kind: str | None = None, namespace: str | None = None, *, api_version: str | None = None
    ) -> list[dict[str, Any]]:
        """Every stored object, optionally of one kind and/or in one namespace."""
        with self.store.lock:
            found = []
            for key in sorted(self.store.entries):
                entry = self.store.entries[key]
                if kind and (entry.rt.kind != kind or (api_version and entry.rt.api_version != api_version)):
                    continue
                if namespace is not None and key[2] != namespace:
                    continue
                found.append(self.store.view(entry))
            return found

    def snapshot(self) -> dict[str, bytes]:
        """Every stored object (as stored, with its field managers) as canonical JSON bytes, by
        `kind namespace/name`, to compare before and after. Status the server derives from the clock
        (rollout progress) is not stored, so only writes change a snapshot."""
        with self.store.lock:
            return {
                f"{entry.rt.kind} {key[2]}/{key[3]}": json.dumps(
                    [entry.obj, entry.applied, entry.updaters], sort_keys=True, separators=(",", ":")
                ).encode()
                for key, entry in self.store.entries.items()
            }

    def managers(self, kind: str, name: str, namespace: str | None = None) -> dict[str, str]:
        """Field managers of an object mapped to their operation (Apply or Update)."""
        obj = self.get_object(kind, name, namespace)
        if obj is None:
            raise KeyError(f"{kind} {name} not found")
        return {m["manager"]: m["operation"] for m in obj["metadata"]["managedFields"]}

    def put(self, manifest: dict[str, Any], *, manager: str = "test-setup") -> dict[str, Any]:
        """Create an object directly in the store (test set-up), as a plain create would."""
        rt = self.resource_type(manifest["kind"], manifest.get("apiVersion"))
        namespace = manifest.get("metadata", {}).get("namespace", "default") if rt.namespaced else None
        return self.store.create(rt, namespace, manifest, manager)
