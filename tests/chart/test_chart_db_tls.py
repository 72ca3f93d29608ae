"""database.tls: a CA and client certificate from a Secret reach every component that connects."""

from __future__ import annotations

from typing import Any

MOUNT = "/etc/innominatus-db-tls"
TLS = {
    "database.sslmode": "verify-full",
    "database.tls.secretName": "pg-tls",
    "database.tls.clientCertKey": "tls.crt",
    "database.tls.clientKeyKey": "tls.key",
    "backup.enabled": "true",
}


def workloads(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] in {"Deployment", "Job", "CronJob"}]


def test_every_component_mounts_the_database_tls_secret(chart: Any) -> None:
    manifests = chart.render(set_values=TLS)
    found = {f"{m['kind']}/{m['metadata']['name']}" for m in workloads(manifests)}
    assert {
        "Deployment/innominatus",
        "Deployment/innominatus-worker",
        "Job/innominatus-migrate",
        "CronJob/innominatus-backup",
    } <= found
    for manifest in workloads(manifests):
        pod = chart.pod_spec(manifest)
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["db-tls"]["secret"] == {"secretName": "pg-tls", "defaultMode": 0o440}, manifest["kind"]
        for container in pod["containers"]:
            mounts = {m["name"]: m for m in container["volumeMounts"]}
            assert mounts["db-tls"] == {"name": "db-tls", "mountPath": MOUNT, "readOnly": True}
            env = chart.env(container)
            for prefix in ("DB_", "PG"):
                assert env[f"{prefix}SSLROOTCERT"] == f"{MOUNT}/ca.crt"
                assert env[f"{prefix}SSLCERT"] == f"{MOUNT}/tls.crt"
                assert env[f"{prefix}SSLKEY"] == f"{MOUNT}/tls.key"
            assert env["DB_SSLMODE"] == env["PGSSLMODE"] == "verify-full"


def test_without_a_tls_secret_nothing_is_mounted_and_libpq_keeps_its_defaults(chart: Any) -> None:
    for manifest in workloads(chart.render(set_values={"backup.enabled": "true"})):
        pod = chart.pod_spec(manifest)
        assert "db-tls" not in {v["name"] for v in pod["volumes"]}
        for container in pod["containers"]:
            env = chart.env(container)
            assert not {"DB_SSLROOTCERT", "DB_SSLCERT", "DB_SSLKEY", "PGSSLROOTCERT"} & env.keys()
            assert env["PGSSLMODE"] == env["DB_SSLMODE"] == "prefer"


def test_a_ca_only_secret_sets_only_the_root_certificate(chart: Any) -> None:
    manifests = chart.render(set_values={"database.tls.secretName": "pg-ca"})
    env = chart.env(chart.container(chart.find(manifests, "Deployment", "innominatus-worker"), "worker"))
    assert env["DB_SSLROOTCERT"] == f"{MOUNT}/ca.crt"
    assert "DB_SSLCERT" not in env and "DB_SSLKEY" not in env
