"""Pod Security baseline over any object that creates pods: each forbidden setting is named by its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from workflows.score.manifests import WorkloadInput, render_workload
from workflows.score.pod_security import manifest_violations

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
        },
    },
}
POD = "spec.template.spec"
MAIN = f"{POD}.containers[0]"


def with_pod(**pod: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(DEPLOYMENT)
    manifest["spec"]["template"]["spec"].update(pod)
    return manifest


def with_container(**container: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(DEPLOYMENT)
    manifest["spec"]["template"]["spec"]["containers"][0].update(container)
    return manifest


VIOLATIONS: dict[str, tuple[dict[str, Any], str, str]] = {
    "hostPath": (
        with_pod(volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
        f"{POD}.volumes[0].hostPath",
        "hostPath volumes are not allowed",
    ),
    "hostNetwork": (with_pod(hostNetwork=True), f"{POD}.hostNetwork", "host namespaces"),
    "hostPID": (with_pod(hostPID=True), f"{POD}.hostPID", "host namespaces"),
    "hostIPC": (with_pod(hostIPC=True), f"{POD}.hostIPC", "host namespaces"),
    "privileged": (
        with_container(securityContext={"privileged": True}),
        f"{MAIN}.securityContext.privileged",
        "privileged containers",
    ),
    "hostPort": (
        with_container(ports=[{"containerPort": 80, "hostPort": 80}]),
        f"{MAIN}.ports[0].hostPort",
        "host ports",
    ),
    "capabilities": (
        with_container(securityContext={"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}),
        f"{MAIN}.securityContext.capabilities.add",
        "capabilities SYS_ADMIN may not be added",
    ),
    "probe host": (
        with_container(livenessProbe={"httpGet": {"host": "10.0.0.1", "port": 80}}),
        f"{MAIN}.livenessProbe.httpGet.host",
        "may not name a host",
    ),
    "lifecycle host": (
        with_container(lifecycle={"preStop": {"httpGet": {"host": "metadata", "port": 80}}}),
        f"{MAIN}.lifecycle.preStop.httpGet.host",
        "may not name a host",
    ),
    "init container privileged": (
        with_pod(
            initContainers=[{"name": "init", "image": "busybox", "securityContext": {"privileged": True}}]
        ),
        f"{POD}.initContainers[0].securityContext.privileged",
        "privileged containers",
    ),
    "hostProcess": (
        with_pod(securityContext={"windowsOptions": {"hostProcess": True}}),
        f"{POD}.securityContext.windowsOptions.hostProcess",
        "HostProcess",
    ),
    "seccomp unconfined": (
        with_container(securityContext={"seccompProfile": {"type": "Unconfined"}}),
        f"{MAIN}.securityContext.seccompProfile.type",
        "unconfined seccomp",
    ),
    "apparmor annotation": (
        {
            **copy.deepcopy(DEPLOYMENT),
            "spec": {
                **copy.deepcopy(DEPLOYMENT["spec"]),
                "template": {
                    "metadata": {
                        "annotations": {"container.apparmor.security.beta.kubernetes.io/main": "unconfined"}
                    },
                    "spec": {"containers": [{"name": "main", "image": "nginx"}]},
                },
            },
        },
        "spec.template.metadata.annotations.container.apparmor.security.beta.kubernetes.io/main",
        "AppArmor",
    ),
    "procMount": (
        with_container(securityContext={"procMount": "Unmasked"}),
        f"{MAIN}.securityContext.procMount",
        "/proc mount",
    ),
    "selinux user": (
        with_pod(securityContext={"seLinuxOptions": {"user": "system_u"}}),
        f"{POD}.securityContext.seLinuxOptions.user",
        "SELinux user",
    ),
    "unsafe sysctl": (
        with_pod(securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}),
        f"{POD}.securityContext.sysctls[0]",
        "kernel.msgmax",
    ),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_each_baseline_violation_is_named_with_its_object_and_path(case: str) -> None:
    manifest, path, reason = VIOLATIONS[case]
    found = manifest_violations(manifest)
    assert len(found) == 1, found
    assert found[0].startswith(f"Deployment/web: {path}: ")
    assert reason in found[0] and found[0].endswith("(Pod Security baseline)")


def test_every_pod_creating_kind_is_checked() -> None:
    pod = {"hostNetwork": True, "containers": [{"name": "main", "image": "nginx"}]}
    assert manifest_violations({"kind": "Pod", "metadata": {"name": "p"}, "spec": pod}) == [
        "Pod/p: spec.hostNetwork: host namespaces are not allowed (Pod Security baseline)"
    ]
    cron = {
        "kind": "CronJob",
        "metadata": {"name": "c"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}},
    }
    assert manifest_violations(cron) == [
        "CronJob/c: spec.jobTemplate.spec.template.spec.hostNetwork: host namespaces are not allowed "
        "(Pod Security baseline)"
    ]
    for kind in ("StatefulSet", "DaemonSet", "Job", "ReplicaSet"):
        manifest = {"kind": kind, "metadata": {"name": "x"}, "spec": {"template": {"spec": pod}}}
        assert len(manifest_violations(manifest)) == 1, kind


def test_baseline_settings_pass() -> None:
    allowed = with_container(
        ports=[{"containerPort": 8080, "hostPort": 0}],
        securityContext={
            "capabilities": {"add": ["NET_BIND_SERVICE", "CAP_CHOWN"], "drop": ["ALL"]},
            "privileged": False,
            "seccompProfile": {"type": "RuntimeDefault"},
            "seLinuxOptions": {"type": "container_t"},
        },
        livenessProbe={"httpGet": {"port": 8080, "path": "/healthz"}},
    )
    allowed["spec"]["template"]["spec"]["securityContext"] = {
        "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65000"}]
    }
    allowed["spec"]["template"]["spec"]["volumes"] = [
        {"name": "data", "persistentVolumeClaim": {"claimName": "d"}}
    ]
    assert manifest_violations(allowed) == []
    assert (
        manifest_violations({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"hostPath": "/"}}) == []
    )


def test_rendered_workloads_pass_and_their_namespace_enforces_baseline() -> None:
    spec = {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": "shop"},
        "containers": {"main": {"image": "nginx:1.27", "livenessProbe": {"httpGet": {"port": 8080}}}},
        "service": {"ports": {"web": {"port": 8080}}},
    }
    rendered = render_workload(WorkloadInput(spec=spec, namespace="shop"))
    namespace = rendered.manifests[0]
    assert namespace["kind"] == "Namespace"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert [problem for manifest in rendered.manifests for problem in manifest_violations(manifest)] == []
