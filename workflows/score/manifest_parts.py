"""Pieces of a rendered workload: placeholder values that remember secrets, files, volumes and probes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.score.naming import secret_key
from workflows.score.placeholders import (
    PlaceholderError,
    build_resolver,
    find_placeholders,
    lookup,
    substitute,
)

PENDING = "<pending:{}>"


class Values:
    """Substitutes Score placeholders and reports whether a value used a secret output."""

    def __init__(
        self,
        metadata: Mapping[str, Any],
        outputs: Mapping[str, Mapping[str, Any]],
        secret_keys: Mapping[str, Collection[str]],
        *,
        lenient: bool = False,
        open_resources: Collection[str] = (),
    ) -> None:
        self.outputs = outputs
        self.secret_keys = secret_keys
        self.lenient = lenient
        # Resources whose output keys are only known once they ran: a reference to them stays pending.
        self.open_resources = frozenset(open_resources)
        self._resolve = build_resolver(metadata, outputs)

    def _is_secret(self, parts: list[str]) -> bool:
        if parts[0] != "resources" or len(parts) < 2:
            return False
        keys = self.secret_keys.get(parts[1]) or ()
        return bool(keys) if len(parts) == 2 else parts[2] in keys

    def _pending(self, parts: list[str]) -> bool:
        if self.lenient:
            return True
        return len(parts) > 1 and parts[0] == "resources" and parts[1] in self.open_resources

    def resolve(self, text: str) -> tuple[str, bool]:
        """(substituted text, whether any secret output went into it); PlaceholderError when unresolvable."""
        secret = False

        def resolver(parts: list[str]) -> str:
            nonlocal secret
            secret = secret or self._is_secret(parts)
            try:
                return self._resolve(parts)
            except PlaceholderError:
                if self._pending(parts):
                    return PENDING.format(".".join(parts))
                raise

        return substitute(text, resolver), secret

    def reference(self, text: str) -> Any:
        """The value of a string that is exactly one `${resources…}` placeholder (a whole output map,
        or one output); None when it is anything else."""
        try:
            found = find_placeholders(text)
        except PlaceholderError:
            return None
        if (
            len(found) != 1
            or found[0].start != 0
            or found[0].end != len(text)
            or found[0].parts[0] != "resources"
        ):
            return None
        try:
            return lookup(self.outputs, found[0].parts[1:])
        except PlaceholderError:
            if self._pending(found[0].parts):
                return PENDING.format(".".join(found[0].parts))
            raise


@dataclass
class FileSet:
    """File contents for one ConfigMap (plain) and one Secret (contents that carry secret outputs)."""

    config: dict[str, str] = field(default_factory=dict)
    binary: dict[str, str] = field(default_factory=dict)
    secret: dict[str, str] = field(default_factory=dict)
    config_items: list[dict[str, Any]] = field(default_factory=list)
    secret_items: list[dict[str, Any]] = field(default_factory=list)


def _mode(value: Any) -> int | None:
    return int(str(value), 8) if value not in (None, "") else None


def container_files(
    container: str, files: Mapping[str, Any], values: Values, into: FileSet
) -> list[dict[str, Any]]:
    """Volume mounts for a container's files; their contents are added to `into`."""
    mounts: list[dict[str, Any]] = []
    for target, entry in sorted(files.items()):
        key = secret_key("file", container, str(target))
        item: dict[str, Any] = {"key": key, "path": key}
        mode = _mode(entry.get("mode"))
        if mode is not None:
            item["mode"] = mode
        if "binaryContent" in entry:
            into.binary[key] = str(entry["binaryContent"])
            secret = False
        elif entry.get("noExpand") is True:
            into.config[key] = str(entry.get("content", ""))
            secret = False
        else:
            text, secret = values.resolve(str(entry.get("content", "")))
            (into.secret if secret else into.config)[key] = text
        (into.secret_items if secret else into.config_items).append(item)
        volume = "secret-files" if secret else "files"
        mounts.append({"name": volume, "mountPath": str(target), "subPath": key, "readOnly": True})
    return mounts


def claim_name(source: str, values: Values) -> str:
    """The PersistentVolumeClaim a Score volume source names: a volume resource's outputs or a plain name."""
    found = values.reference(source)
    if isinstance(found, Mapping):
        for key in ("claimName", "source", "name"):
            if found.get(key):
                return str(found[key])
        raise PlaceholderError(f"volume source {source!r} has no claimName, source or name output")
    if found is not None:
        return str(found)
    text, _ = values.resolve(source)
    return text


def container_volumes(
    volumes: Mapping[str, Any], values: Values, claims: dict[str, str]
) -> list[dict[str, Any]]:
    """Volume mounts for a container; `claims` (claim name -> pod volume name) is shared by the pod."""
    mounts: list[dict[str, Any]] = []
    for target, entry in sorted(volumes.items()):
        claim = claim_name(str(entry["source"]), values)
        name = claims.setdefault(claim, f"volume-{len(claims)}")
        mount: dict[str, Any] = {"name": name, "mountPath": str(target)}
        if entry.get("readOnly"):
            mount["readOnly"] = True
        sub_path = str(entry.get("path") or "").strip("/")
        if sub_path:
            mount["subPath"] = sub_path
        mounts.append(mount)
    return mounts


def probe(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A Kubernetes probe from a Score probe; `exec` wins when both are given, as the Score schema advises."""
    if "exec" in spec:
        return {"exec": {"command": [str(part) for part in spec["exec"]["command"]]}}
    http = spec["httpGet"]
    result: dict[str, Any] = {"port": int(http["port"]), "path": str(http.get("path") or "/")}
    if http.get("host"):
        result["host"] = str(http["host"])
    if http.get("scheme"):
        result["scheme"] = str(http["scheme"])
    headers = http.get("httpHeaders") or []
    if headers:
        result["httpHeaders"] = [{"name": str(h["name"]), "value": str(h["value"])} for h in headers]
    return {"httpGet": result}


def compute_resources(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Requests and limits as Kubernetes quantities."""
    result: dict[str, Any] = {}
    for section in ("requests", "limits"):
        values = spec.get(section) or {}
        if values:
            result[section] = {key: str(value) for key, value in values.items()}
    return result
