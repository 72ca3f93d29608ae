"""The fake API server's object store: create, replace, patch, server-side apply, delete, list."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .discovery import Catalogue, ResourceType
from .fields import (
    apply_config,
    conflicts,
    fields_v1,
    leaf_paths,
    merge_patch,
    owned_paths,
    parse_selector,
    selector_matches,
)
from .workloads import WORKLOAD_KINDS, Phase, workload_status

Key = tuple[str, str, str, str]  # group, plural, namespace ("" when cluster-scoped), name
SEED_NAMESPACES = ("default", "kube-system", "kube-public")
NAME_LABEL = "kubernetes.io/metadata.name"


class ApiError(Exception):
    """A failure the server answers with a `Status` body."""

    def __init__(
        self, code: int, reason: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.details = dict(details or {})

    def status_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def now_rfc3339() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What a generation tracks: everything but metadata and status."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


@dataclass
class Entry:
    """One stored object plus what each field manager last applied or updated."""

    rt: ResourceType
    obj: dict[str, Any]
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)
    updaters: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed_at: float = field(default_factory=time.monotonic)
    times: dict[str, str] = field(default_factory=dict)


class Store:
    """All objects of the fake cluster, guarded by one lock (the HTTP server is threaded)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.lock = threading.RLock()
        self.entries: dict[Key, Entry] = {}
        self.rollout_delay = 0.2
        # Workloads named here (as "name" or "namespace/name") never become ready / exceed their deadline.
        self.never_ready: set[str] = set()
        self.deadline_exceeded: set[str] = set()
        self._rv = 0
        namespace_type = catalogue.by_kind("v1", "Namespace")
        assert namespace_type is not None
        for name in SEED_NAMESPACES:
            self.create(namespace_type, None, {"metadata": {"name": name}}, "kube-apiserver")

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    @staticmethod
    def key(rt: ResourceType, namespace: str | None, name: str) -> Key:
        return (rt.group, rt.plural, (namespace or "") if rt.namespaced else "", name)

    def not_found(self, rt: ResourceType, name: str) -> ApiError:
        details = {"name": name, "group": rt.group, "kind": rt.plural}
        return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', details)

    def _require_namespace(self, rt: ResourceType, namespace: str | None) -> None:
        if not rt.namespaced:
            return
        if not namespace:
            raise ApiError(400, "BadRequest", "the namespace of the object must be set")
        if ("", "namespaces", "", namespace) not in self.entries:
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )

    def _check_body(
        self, rt: ResourceType, namespace: str | None, name: str | None, body: Any
    ) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be an object")
        body = copy.deepcopy(body)
        for attr, wanted in (("apiVersion", rt.api_version), ("kind", rt.kind)):
            if body.get(attr, wanted) != wanted:
                raise ApiError(
                    400, "BadRequest", f"{attr} {body.get(attr)!r} does not match the URL ({wanted})"
                )
        body["apiVersion"], body["kind"] = rt.api_version, rt.kind
        metadata = body.setdefault("metadata", {})
        if name is not None and metadata.get("name", name) != name:
            raise ApiError(
                400,
                "BadRequest",
                f"the name of the object ({metadata.get('name')}) does not match the name on the URL "
                f"({name})",
            )
        if rt.namespaced:
            if metadata.get("namespace", namespace) != namespace:
                raise ApiError(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        if rt.has_status:
            body.pop("status", None)
        if rt.kind == "Secret" and isinstance(body.get("stringData"), dict):
            data = body.setdefault("data", {})
            for key, value in body.pop("stringData").items():
                data[key] = base64.b64encode(str(value).encode()).decode()
        return body

    def _phase(self, entry: Entry) -> Phase:
        metadata = entry.obj["metadata"]
        names = {metadata["name"], f"{metadata.get('namespace', '')}/{metadata['name']}"}
        if names & self.deadline_exceeded:
            return "deadline"
        if names & self.never_ready:
            return "rolling"
        return "ready" if time.monotonic() - entry.changed_at >= self.rollout_delay else "rolling"

    def view(self, entry: Entry) -> dict[str, Any]:
        """The object as the server returns it: current simulated status and managedFields."""
        if entry.rt.kind in WORKLOAD_KINDS:
            entry.obj["status"] = workload_status(entry.obj, self._phase(entry), now_rfc3339())
        obj = copy.deepcopy(entry.obj)
        managed = [{"manager": m, "operation": "Apply", "config": c} for m, c in entry.applied.items()] + [
            {"manager": m, "operation": "Update", "config": c} for m, c in entry.updaters.items()
        ]
        obj["metadata"]["managedFields"] = [
            {
                "manager": item["manager"],
                "operation": item["operation"],
                "apiVersion": entry.rt.api_version,
                "time": entry.times.get(item["manager"], obj["metadata"]["creationTimestamp"]),
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1(item["config"]),
            }
            for item in managed
        ]
        return obj

    def _insert(self, rt: ResourceType, body: dict[str, Any], manager: str, applied: bool) -> Entry:
        metadata = body["metadata"]
        metadata.update(
            uid=str(uuid.uuid4()),
            resourceVersion=self._next_rv(),
            creationTimestamp=now_rfc3339(),
            generation=1,
        )
        metadata.pop("managedFields", None)
        if rt.kind == "Namespace" and not rt.group:
            body["status"] = {"phase": "Active"}
            # As the real API server (1.21+): every namespace carries its name as an immutable label.
            metadata["labels"] = {**(metadata.get("labels") or {}), NAME_LABEL: metadata["name"]}
        entry = Entry(rt, body)
        (entry.applied if applied else entry.updaters)[manager] = _config_of(body)
        entry.times[manager] = metadata["creationTimestamp"]
        self.entries[self.key(rt, metadata.get("namespace"), metadata["name"])] = entry
        return entry

    def _update(self, entry: Entry, new_obj: dict[str, Any], manager: str) -> None:
        old = entry.obj
        metadata = new_obj.setdefault("metadata", {})
        for attr in ("uid", "creationTimestamp", "name", "namespace"):
            if attr in old["metadata"]:
                metadata[attr] = old["metadata"][attr]
        metadata.pop("managedFields", None)
        if entry.rt.kind == "Namespace" and not entry.rt.group:
            metadata["labels"] = {**(metadata.get("labels") or {}), NAME_LABEL: metadata["name"]}
        generation = int(old["metadata"].get("generation") or 1)
        if _spec_of(new_obj) != _spec_of(old):
            generation += 1
            entry.changed_at = time.monotonic()
        metadata["generation"] = generation
        metadata["resourceVersion"] = self._next_rv()
        if entry.rt.has_status and "status" in old:
            new_obj["status"] = old["status"]
        entry.obj = new_obj
        entry.times[manager] = now_rfc3339()

    def get_entry(self, rt: ResourceType, namespace: str | None, name: str) -> Entry:
        entry = self.entries.get(self.key(rt, namespace, name))
        if entry is None:
            raise self.not_found(rt, name)
        return entry

    def get(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        with self.lock:
            return self.view(self.get_entry(rt, namespace, name))

    def list(
        self, rt: ResourceType, namespace: str | None, label_selector: str = "", field_selector: str = ""
    ) -> tuple[list[dict[str, Any]], str]:
        """Matching objects (sorted by namespace and name) and the list's resourceVersion."""
        try:
            requirements = parse_selector(label_selector)
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {exc}") from exc
        fields = _parse_field_selector(field_selector)
        with self.lock:
            items = []
            for key in sorted(self.entries):
                entry = self.entries[key]
                if entry.rt != rt or (rt.namespaced and namespace and key[2] != namespace):
                    continue
                metadata = entry.obj["metadata"]
                if not selector_matches(requirements, metadata.get("labels") or {}):
                    continue
                if not all((metadata.get(attr, "") == value) == equal for attr, value, equal in fields):
                    continue
                items.append(self.view(entry))
            return items, str(self._rv)

    def create(self, rt: ResourceType, namespace: str | None, body: Any, manager: str) -> dict[str, Any]:
        with self.lock:
            body = self._check_body(rt, namespace, None, body)
            metadata = body["metadata"]
            if not metadata.get("name") and metadata.get("generateName"):
                metadata["name"] = metadata["generateName"] + secrets.token_hex(3)[:5]
            if not metadata.get("name"):
                raise ApiError(
                    422, "Invalid", f"{rt.kind} is invalid: metadata.name: Required value: name is required"
                )
            if rt.kind != "Namespace":
                self._require_namespace(rt, namespace)
            if self.key(rt, namespace, metadata["name"]) in self.entries:
                details = {"name": metadata["name"], "group": rt.group, "kind": rt.plural}
                raise ApiError(
                    409, "AlreadyExists", f'{rt.qualified} "{metadata["name"]}" already exists', details
                )
            return self.view(self._insert(rt, body, manager, applied=False))

    def replace(
        self, rt: ResourceType, namespace: str | None, name: str, body: Any, manager: str
    ) -> dict[str, Any]:
        with self.lock:
            body = self._check_body(rt, namespace, name, body)
            entry = self.get_entry(rt, namespace, name)
            wanted_rv = body["metadata"].get("resourceVersion")
            if wanted_rv and wanted_rv != entry.obj["metadata"]["resourceVersion"]:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {rt.qualified} "{name}": '
                    "the object has been modified; "
                    "please apply your changes to the latest version and try again",
                )
            self._update(entry, body, manager)
            entry.updaters[manager] = _config_of(body)
            return self.view(entry)

    def merge(
        self, rt: ResourceType, namespace: str | None, name: str, patch: Any, manager: str
    ) -> dict[str, Any]:
        with self.lock:
            entry = self.get_entry(rt, namespace, name)
            if not isinstance(patch, dict):
                raise ApiError(400, "BadRequest", "a merge patch must be an object")
            if rt.has_status:
                patch = {k: v for k, v in patch.items() if k != "status"}
            new_obj = merge_patch(entry.obj, patch)
            self._check_body(rt, namespace, name, new_obj)
            self._update(entry, new_obj, manager)
            entry.updaters[manager] = merge_patch(entry.updaters.get(manager, {}), _config_of(patch))
            return self.view(entry)

    def apply(
        self, rt: ResourceType, namespace: str | None, name: str, body: Any, manager: str, force: bool
    ) -> tuple[dict[str, Any], bool]:
        """Server-side apply; returns the object and whether it was created."""
        with self.lock:
            self._require_namespace(rt, namespace)
            body = self._check_body(rt, namespace, name, body)
            body["metadata"]["name"] = name
            config = _config_of(body)
            entry = self.entries.get(self.key(rt, namespace, name))
            if entry is None:
                return self.view(self._insert(rt, body, manager, applied=True)), True
            others = {m: c for m, c in {**entry.updaters, **entry.applied}.items() if m != manager}
            found = conflicts(config, others)
            if found and not force:
                listed = "; ".join(f'conflict with "{m}": .{".".join(p)}' for m, p in found)
                raise ApiError(409, "Conflict", f"Apply failed with {len(found)} conflict(s): {listed}")
            for other, path in found:
                # Forcing takes the field over: the other manager no longer owns it.
                for table in (entry.applied, entry.updaters):
                    if other in table:
                        table[other] = _without(table[other], path)
            still_owned = set().union(*(owned_paths(c) for c in others.values())) if others else set()
            previous = {
                p: v for p, v in _flatten(entry.applied.get(manager, {})).items() if p not in still_owned
            }
            new_obj = apply_config(entry.obj, _unflatten(previous), config)
            self._update(entry, new_obj, manager)
            entry.applied[manager] = config
            return self.view(entry), False

    def delete(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        """Remove an object; deleting a Namespace removes everything in it."""
        with self.lock:
            entry = self.get_entry(rt, namespace, name)
            if rt.kind == "Namespace" and not rt.group and name in SEED_NAMESPACES:
                details = {"name": name, "kind": "namespaces"}
                raise ApiError(
                    403,
                    "Forbidden",
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    details,
                )
            obj = self.view(entry)
            del self.entries[self.key(rt, namespace, name)]
            if rt.kind == "Namespace" and not rt.group:
                for key in [k for k in self.entries if k[2] == name and self.entries[k].rt.namespaced]:
                    del self.entries[key]
            return obj


def _config_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a manager sets, without those the server owns."""
    config = copy.deepcopy(dict(body))
    config.pop("status", None)
    return config


def _flatten(config: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
    return dict(leaf_paths(config))


def _unflatten(flat: Mapping[tuple[str, ...], Any]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return tree


def _without(config: Mapping[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    return _unflatten({p: v for p, v in _flatten(config).items() if p != path})


def _parse_field_selector(selector: str) -> list[tuple[str, str, bool]]:
    """Field selector terms on metadata.name / metadata.namespace as (attribute, value, equal)."""
    terms = []
    for part in filter(None, (p.strip() for p in selector.split(","))):
        equal = "!=" not in part
        attr, _, value = part.replace("!=", "=").replace("==", "=").partition("=")
        if attr not in ("metadata.name", "metadata.namespace"):
            raise ApiError(400, "BadRequest", f'field label not supported: "{attr}"')
        terms.append((attr.split(".", 1)[1], value, equal))
    return terms
