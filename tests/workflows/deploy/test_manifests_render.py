"""Rendering a Score workload into Kubernetes objects (plain Python: no database, no cluster)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from workflows.runtime.validation import check_manifest
from workflows.score import ingest
from workflows.score.manifests import SECRET_MASK, RenderError, WorkloadInput, render_workload
from workflows.score.naming import k8s_name

FULL = """
apiVersion: score.dev/v1b1
metadata:
  name: full-variant
  annotations: {team.example/owner: payments}
service:
  ports:
    web: {port: 80, targetPort: 8080}
    metrics: {port: 9090, protocol: TCP}
containers:
  app:
    image: registry.example/app:1.2
    command: ["/app"]
    args: ["--listen", ":8080"]
    variables:
      PLAIN: "$(not-a-k8s-ref) ${metadata.name}"
      DATABASE_URL: "postgres://${resources.db.username}:${resources.db.password}@${resources.db.host}/x"
    files:
      /etc/app/config.yaml:
        content: "host: ${resources.db.host}"
      /etc/app/secret.env:
        mode: "0400"
        content: "PASSWORD=${resources.db.password}"
      /etc/app/raw.txt:
        content: "${literally}"
        noExpand: true
      /etc/app/logo.bin:
        binaryContent: aGVsbG8=
    volumes:
      /data: {source: "${resources.data}", path: sub/dir, readOnly: true}
      /cache: {source: existing-claim}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: "1", memory: 256Mi}
    livenessProbe:
      httpGet: {port: 8080, path: /healthz, httpHeaders: [{name: X-Probe, value: "1"}]}
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
    before:
      migrate: {ready: complete}
  migrate:
    image: registry.example/migrate:1.2
resources:
  db: {type: postgres}
  data: {type: volume}
"""
OUTPUTS = {
    "db": {"host": "db.svc", "username": "u1", "password": "s3cret-value"},
    "data": {"claimName": "full-variant-data", "source": "full-variant-data"},
}


def render(text: str = FULL, **changes: Any) -> dict[str, dict[str, Any]]:
    spec = ingest(text).spec
    inp = WorkloadInput(
        spec=spec, namespace="payments", outputs=OUTPUTS, secret_keys={"db": {"password"}}, revision=4
    )
    rendered = render_workload(WorkloadInput(**{**inp.__dict__, **changes}))
    return {m["kind"]: m for m in rendered.manifests}


def test_every_object_is_schema_valid_and_in_apply_order() -> None:
    rendered = render_workload(
        WorkloadInput(
            spec=ingest(FULL).spec, namespace="payments", outputs=OUTPUTS, secret_keys={"db": {"password"}}
        )
    )
    assert [m["kind"] for m in rendered.manifests] == [
        "Namespace",
        "Secret",
        "ConfigMap",
        "Service",
        "Deployment",
    ]
    for manifest in rendered.manifests:
        assert check_manifest(manifest, require_schema=True).errors == []


def test_secret_outputs_reach_pods_only_through_the_secret() -> None:
    objects = render()
    secret, deployment = objects["Secret"], objects["Deployment"]
    decoded = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert decoded["env.app.DATABASE_URL"] == "postgres://u1:s3cret-value@db.svc/x"
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    env = {e["name"]: e for e in containers["app"]["env"]}
    assert env["DATABASE_URL"] == {
        "name": "DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "full-variant-secrets", "key": "env.app.DATABASE_URL"}},
    }
    # Kubernetes would expand $(…) in a plain value: it is escaped.
    assert env["PLAIN"]["value"] == "$$(not-a-k8s-ref) full-variant"
    assert "s3cret-value" not in yaml.safe_dump(deployment)
    assert "s3cret-value" not in yaml.safe_dump(objects["ConfigMap"])
    masked = render_workload(
        WorkloadInput(
            spec=ingest(FULL).spec, namespace="p", outputs=OUTPUTS, secret_keys={"db": {"password"}}
        )
    ).masked()
    assert set(masked[1]["data"].values()) == {SECRET_MASK}


def test_files_volumes_probes_resources_and_init_containers() -> None:
    objects = render()
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    config = objects["ConfigMap"]
    assert sorted(config["data"].values()) == ["${literally}", "host: db.svc"]
    assert list(config["binaryData"].values()) == ["aGVsbG8="]
    app = pod["containers"][0]
    mounts = {m["mountPath"]: m for m in app["volumeMounts"]}
    assert mounts["/etc/app/secret.env"]["name"] == "secret-files"
    assert mounts["/data"] == {
        "name": "volume-1",
        "mountPath": "/data",
        "readOnly": True,
        "subPath": "sub/dir",
    }
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["volume-1"]["persistentVolumeClaim"] == {"claimName": "full-variant-data"}
    assert volumes["volume-0"]["persistentVolumeClaim"] == {"claimName": "existing-claim"}
    assert volumes["secret-files"]["secret"]["items"][0]["mode"] == 0o400
    assert app["livenessProbe"]["httpGet"]["httpHeaders"] == [{"name": "X-Probe", "value": "1"}]
    assert app["readinessProbe"] == {"exec": {"command": ["cat", "/tmp/ready"]}}
    assert app["resources"] == {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "1", "memory": "256Mi"},
    }
    assert [c["name"] for c in pod["initContainers"]] == ["migrate"]
    assert "restartPolicy" not in pod["initContainers"][0]
    assert objects["Deployment"]["metadata"]["annotations"]["innominatus.dev/revision"] == "4"
    ports = objects["Service"]["spec"]["ports"]
    assert [(p["name"], p["port"], p["targetPort"]) for p in ports] == [
        ("metrics", 9090, 9090),
        ("web", 80, 8080),
    ]


def test_a_changed_secret_rolls_the_pods() -> None:
    first = render()["Deployment"]["spec"]["template"]["metadata"]["annotations"][
        "innominatus.dev/config-hash"
    ]
    rotated = {**OUTPUTS, "db": {**OUTPUTS["db"], "password": "new-value"}}
    second = render(outputs=rotated)["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert second["innominatus.dev/config-hash"] != first


def test_unresolvable_references_are_all_reported_or_pending_in_plans() -> None:
    with pytest.raises(RenderError) as raised:
        render(outputs={})
    assert any("containers.app.variables.DATABASE_URL" in problem for problem in raised.value.problems)
    planned = render(outputs={}, lenient=True)
    assert "<pending:resources.db.host>" in planned["ConfigMap"][
        "data"
    ].values().__iter__().__next__() or any(
        "<pending:resources.db.host>" in value for value in planned["ConfigMap"]["data"].values()
    )


@pytest.mark.parametrize(
    ("parts", "expected"),
    [(("hello",), "hello"), (("9lives", "db"), "x-9lives-db"), (("a" * 70,), "a" * 56 + "-")],
)
def test_object_names_are_dns_labels(parts: tuple[str, ...], expected: str) -> None:
    name = k8s_name(*parts)
    assert name.startswith(expected) and len(name) <= 63
    assert name[0].isalpha() and not name.endswith("-")
