"""Render a Score workload into Kubernetes objects (plain Python: no database, no cluster).

One application becomes: its Namespace; a Secret `<name>-secrets` holding every variable and file
that carries a secret resource output (pods read them through `secretKeyRef` and Secret volumes,
never as plain values); a ConfigMap `<name>-files` for the other files; a Service for
`service.ports`; and a Deployment with every container (command, args, variables, files,
volumes, probes, requests/limits, annotations). Containers named in another container's `before`
become init containers (`ready: complete`) or native sidecars (`started`, `healthy`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.score.manifest_parts import (
    FileSet,
    Values,
    compute_resources,
    container_files,
    container_volumes,
    probe,
)
from workflows.score.naming import k8s_name, secret_key
from workflows.score.placeholders import PlaceholderError
from workflows.score.pod_security import POD_SECURITY_LABELS

SECRET_MASK = "********"  # noqa: S105 - the mask shown instead of a secret  # nosec B105
MANAGED_BY = "app.kubernetes.io/managed-by"
APP_LABEL = "innominatus.dev/app"
CONFIG_HASH = "innominatus.dev/config-hash"


class RenderError(ValueError):
    """The workload cannot be rendered; `problems` lists every reason with its place in the spec."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class WorkloadInput:
    """What a workload is rendered from: its spec, namespace and the outputs of its resources."""

    spec: Mapping[str, Any]
    namespace: str
    outputs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    secret_keys: Mapping[str, Collection[str]] = field(default_factory=dict)
    revision: int | None = None
    # Plans render before resources exist: unresolvable references become <pending:…> text.
    lenient: bool = False
    # Dry runs: resources whose output keys cannot be known before they run (references stay pending).
    open_resources: Collection[str] = ()


@dataclass
class RenderedWorkload:
    """The objects of one workload in apply order."""

    name: str
    namespace: str
    manifests: list[dict[str, Any]]

    def masked(self) -> list[dict[str, Any]]:
        """The manifests with every Secret value replaced by a mask (what may be stored and shown)."""
        return mask_secrets(self.manifests)


def mask_secrets(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of `manifests` in which no Secret value survives."""
    result = []
    for manifest in manifests:
        item = copy.deepcopy(manifest)
        if item.get("kind") == "Secret":
            for section in ("data", "stringData"):
                if isinstance(item.get(section), dict):
                    item[section] = dict.fromkeys(item[section], SECRET_MASK)
        result.append(item)
    return result


def workload_name(spec: Mapping[str, Any]) -> str:
    """The name of the Deployment and Service of a workload."""
    return k8s_name(str(spec["metadata"]["name"]))


def _labels(app: str) -> dict[str, str]:
    return {MANAGED_BY: "innominatus", APP_LABEL: app}


def _metadata(name: str, namespace: str, app: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": _labels(app), **extra}


def _encode(values: Mapping[str, str]) -> dict[str, str]:
    return {key: base64.b64encode(value.encode()).decode() for key, value in sorted(values.items())}


class _Builder:
    """Collects containers, volumes, Secret entries and file contents of one workload."""

    def __init__(self, inp: WorkloadInput) -> None:
        self.inp = inp
        self.app = str(inp.spec["metadata"]["name"])
        self.name = workload_name(inp.spec)
        self.secret_name = f"{self.name}-secrets"[:253]
        self.files_name = f"{self.name}-files"[:253]
        self.values = Values(
            inp.spec["metadata"],
            inp.outputs,
            inp.secret_keys,
            lenient=inp.lenient,
            open_resources=inp.open_resources,
        )
        self.secret_env: dict[str, str] = {}
        self.files = FileSet()
        self.claims: dict[str, str] = {}
        self.problems: list[str] = []

    def env(self, container: str, variables: Mapping[str, Any]) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for var, text in sorted(variables.items()):
            try:
                value, secret = self.values.resolve(str(text))
            except PlaceholderError as exc:
                self.problems.append(f"containers.{container}.variables.{var}: {exc}")
                continue
            if secret:
                key = secret_key("env", container, var)
                self.secret_env[key] = value
                entries.append(
                    {"name": var, "valueFrom": {"secretKeyRef": {"name": self.secret_name, "key": key}}}
                )
            else:
                # Kubernetes expands $(NAME) in env values; $$( keeps the text literal.
                entries.append({"name": var, "value": value.replace("$(", "$$(")})
        return entries

    def container(self, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {"name": name, "image": str(spec["image"])}
        for key in ("command", "args"):
            if spec.get(key):
                result[key] = [str(part) for part in spec[key]]
        env = self.env(name, spec.get("variables") or {})
        if env:
            result["env"] = env
        mounts: list[dict[str, Any]] = []
        try:
            mounts += container_files(name, spec.get("files") or {}, self.values, self.files)
            mounts += container_volumes(spec.get("volumes") or {}, self.values, self.claims)
        except PlaceholderError as exc:
            self.problems.append(f"containers.{name}: {exc}")
        if mounts:
            result["volumeMounts"] = mounts
        for key in ("livenessProbe", "readinessProbe"):
            if spec.get(key):
                result[key] = probe(spec[key])
        resources = compute_resources(spec.get("resources") or {})
        if resources:
            result["resources"] = resources
        return result

    def pod_volumes(self) -> list[dict[str, Any]]:
        volumes: list[dict[str, Any]] = []
        if self.files.config_items:
            items = sorted(self.files.config_items, key=lambda item: item["key"])
            volumes.append({"name": "files", "configMap": {"name": self.files_name, "items": items}})
        if self.files.secret_items:
            items = sorted(self.files.secret_items, key=lambda item: item["key"])
            volumes.append(
                {"name": "secret-files", "secret": {"secretName": self.secret_name, "items": items}}
            )
        for claim, volume in sorted(self.claims.items(), key=lambda pair: pair[1]):
            volumes.append({"name": volume, "persistentVolumeClaim": {"claimName": claim}})
        return volumes


def _startup_order(containers: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(init containers with their readiness condition, regular containers) from `before` declarations."""
    condition: dict[str, str] = {}
    for spec in containers.values():
        for other, rule in (spec.get("before") or {}).items():
            if other in containers:
                condition[other] = str((rule or {}).get("ready") or "started")
    init = [(name, condition[name]) for name in containers if name in condition]
    regular = [name for name in containers if name not in condition]
    return init, regular


def render_workload(inp: WorkloadInput) -> RenderedWorkload:
    """Every object of the workload, in apply order; RenderError lists all unresolvable places."""
    build = _Builder(inp)
    containers: Mapping[str, Any] = inp.spec.get("containers") or {}
    init_names, regular_names = _startup_order(containers)
    init_containers = []
    for name, ready in init_names:
        container = build.container(name, containers[name])
        if ready != "complete":
            container["restartPolicy"] = "Always"
        init_containers.append(container)
    regular = [build.container(name, containers[name]) for name in regular_names]
    if build.problems:
        raise RenderError(build.problems)

    ns, app, name = inp.namespace, build.app, build.name
    annotations = {str(k): str(v) for k, v in (inp.spec["metadata"].get("annotations") or {}).items()}
    selector = {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": app}
    manifests: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ns, "labels": {**_labels(app), **POD_SECURITY_LABELS}},
        }
    ]
    secret_values = {**build.secret_env, **build.files.secret}
    if secret_values:
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": _metadata(build.secret_name, ns, app),
                "type": "Opaque",
                "data": _encode(secret_values),
            }
        )
    if build.files.config or build.files.binary:
        config_map: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _metadata(build.files_name, ns, app),
        }
        if build.files.config:
            config_map["data"] = dict(sorted(build.files.config.items()))
        if build.files.binary:
            config_map["binaryData"] = dict(sorted(build.files.binary.items()))
        manifests.append(config_map)
    ports = (inp.spec.get("service") or {}).get("ports") or {}
    if ports:
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": _metadata(name, ns, app, annotations=annotations)
                if annotations
                else _metadata(name, ns, app),
                "spec": {
                    "selector": selector,
                    "ports": [
                        {
                            "name": port_name,
                            "port": int(port["port"]),
                            "targetPort": int(port.get("targetPort") or port["port"]),
                            "protocol": str(port.get("protocol") or "TCP"),
                        }
                        for port_name, port in sorted(ports.items())
                    ],
                },
            }
        )
    # Pods roll when a Secret or file changes (e.g. a rotated password), though the spec did not.
    digest = hashlib.sha256(
        json.dumps([secret_values, build.files.config, build.files.binary], sort_keys=True).encode()
    ).hexdigest()[:16]
    pod_spec: dict[str, Any] = {"containers": regular}
    if init_containers:
        pod_spec["initContainers"] = init_containers
    volumes = build.pod_volumes()
    if volumes:
        pod_spec["volumes"] = volumes
    deployment_annotations = dict(annotations)
    if inp.revision is not None:
        deployment_annotations["innominatus.dev/revision"] = str(inp.revision)
    deployment_meta = _metadata(name, ns, app)
    if deployment_annotations:
        deployment_meta["annotations"] = deployment_annotations
    manifests.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": deployment_meta,
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {
                        "labels": {**_labels(app), **selector},
                        "annotations": {**annotations, CONFIG_HASH: digest},
                    },
                    "spec": pod_spec,
                },
            },
        }
    )
    return RenderedWorkload(name=name, namespace=ns, manifests=manifests)
