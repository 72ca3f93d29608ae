"""Kubernetes Pod Security "baseline" for every object innominatus applies (plain Python, no cluster).

The rules follow https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline:
no host namespaces, host ports, hostPath volumes, privileged or HostProcess containers, no added
capabilities beyond the baseline set, no unconfined seccomp/AppArmor, no custom SELinux user/role
or type, default /proc mount, safe sysctls only, and no `host` in probes or lifecycle hooks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

POD_SECURITY_LEVEL = "baseline"
# Labels for namespaces innominatus creates, so the cluster's admission enforces the same rules.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": POD_SECURITY_LEVEL,
    "pod-security.kubernetes.io/warn": POD_SECURITY_LEVEL,
}

ALLOWED_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_ANNOTATIONS = (
    "seccomp.security.alpha.kubernetes.io/pod",
    "container.seccomp.security.alpha.kubernetes.io/",
)
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")

# Where the pod template sits in each kind that creates pods.
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def annotation_violation(key: str, value: Any) -> str | None:
    """Why a pod annotation breaks the baseline (an unconfined AppArmor or seccomp profile), or None."""
    text = str(value)
    if (
        key.startswith(APPARMOR_ANNOTATION)
        and text != "runtime/default"
        and not text.startswith("localhost/")
    ):
        return "AppArmor profiles other than runtime/default or localhost/* are not allowed"
    if any(key.startswith(prefix) for prefix in SECCOMP_ANNOTATIONS) and text.lower() == "unconfined":
        return "an unconfined seccomp profile is not allowed"
    return None


def _security_context(context: Mapping[str, Any], where: str) -> Iterator[tuple[str, str]]:
    if _mapping(context.get("windowsOptions")).get("hostProcess") is True:
        yield f"{where}.windowsOptions.hostProcess", "HostProcess containers are not allowed"
    selinux = _mapping(context.get("seLinuxOptions"))
    if selinux.get("type", "") not in SELINUX_TYPES:
        yield f"{where}.seLinuxOptions.type", "custom SELinux types are not allowed"
    for key in ("user", "role"):
        if selinux.get(key):
            yield f"{where}.seLinuxOptions.{key}", f"setting the SELinux {key} is not allowed"
    if _mapping(context.get("seccompProfile")).get("type") == "Unconfined":
        yield f"{where}.seccompProfile.type", "an unconfined seccomp profile is not allowed"
    if _mapping(context.get("appArmorProfile")).get("type") == "Unconfined":
        yield f"{where}.appArmorProfile.type", "an unconfined AppArmor profile is not allowed"


def _handler_host(handler: Mapping[str, Any], where: str) -> Iterator[tuple[str, str]]:
    for kind in ("httpGet", "tcpSocket"):
        if _mapping(handler.get(kind)).get("host"):
            yield f"{where}.{kind}.host", "probes and lifecycle hooks may not name a host"


def _container(container: Mapping[str, Any], where: str) -> Iterator[tuple[str, str]]:
    context = _mapping(container.get("securityContext"))
    context_at = f"{where}.securityContext"
    if context.get("privileged") is True:
        yield f"{context_at}.privileged", "privileged containers are not allowed"
    added = [str(cap) for cap in _list(_mapping(context.get("capabilities")).get("add"))]
    extra = sorted({cap for cap in added if cap.upper().removeprefix("CAP_") not in ALLOWED_CAPABILITIES})
    if extra:
        yield f"{context_at}.capabilities.add", f"capabilities {', '.join(extra)} may not be added"
    if context.get("procMount") not in (None, "", "Default"):
        yield f"{context_at}.procMount", "only the Default /proc mount is allowed"
    yield from _security_context(context, context_at)
    for index, port in enumerate(_list(container.get("ports"))):
        if _mapping(port).get("hostPort") not in (None, 0):
            yield f"{where}.ports[{index}].hostPort", "host ports are not allowed"
    for probe in PROBES:
        yield from _handler_host(_mapping(container.get(probe)), f"{where}.{probe}")
    lifecycle = _mapping(container.get("lifecycle"))
    for hook in ("postStart", "preStop"):
        yield from _handler_host(_mapping(lifecycle.get(hook)), f"{where}.lifecycle.{hook}")


def pod_violations(
    spec: Mapping[str, Any], annotations: Mapping[str, Any], where: str
) -> Iterator[tuple[str, str]]:
    """(path, reason) for every baseline violation of a pod spec and its annotations."""
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key) is True:
            yield f"{where}.spec.{key}", "host namespaces are not allowed"
    context = _mapping(spec.get("securityContext"))
    yield from _security_context(context, f"{where}.spec.securityContext")
    for index, sysctl in enumerate(_list(context.get("sysctls"))):
        name = str(_mapping(sysctl).get("name", ""))
        if name not in SAFE_SYSCTLS:
            yield f"{where}.spec.securityContext.sysctls[{index}]", f"sysctl {name!r} is not allowed"
    for index, volume in enumerate(_list(spec.get("volumes"))):
        if "hostPath" in _mapping(volume):
            yield f"{where}.spec.volumes[{index}].hostPath", "hostPath volumes are not allowed"
    for field in CONTAINER_LISTS:
        for index, container in enumerate(_list(spec.get(field))):
            yield from _container(_mapping(container), f"{where}.spec.{field}[{index}]")
    for key, value in annotations.items():
        reason = annotation_violation(str(key), value)
        if reason:
            yield f"{where}.metadata.annotations.{key}", reason


def manifest_violations(manifest: Mapping[str, Any]) -> list[str]:
    """`Kind/name: path: reason (Pod Security baseline)` for each violation of an object that creates pods."""
    kind = str(manifest.get("kind") or "")
    path = POD_TEMPLATE_PATHS.get(kind)
    if path is None:
        return []
    template: Mapping[str, Any] = manifest
    for part in path:
        template = _mapping(template.get(part))
    where = ".".join(path)
    name = _mapping(manifest.get("metadata")).get("name") or "?"
    found = pod_violations(
        _mapping(template.get("spec")),
        _mapping(_mapping(template.get("metadata")).get("annotations")),
        where,
    )
    return [
        f"{kind}/{name}: {place.lstrip('.')}: {reason} (Pod Security {POD_SECURITY_LEVEL})"
        for place, reason in found
    ]
