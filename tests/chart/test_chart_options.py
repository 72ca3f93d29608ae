"""Optional parts of the chart: secrets, migrations, backups, ingress, RBAC and network policy."""

from __future__ import annotations

import base64
from typing import Any

# Environment variables the product reads (DESIGN.md and the issue); every container gets them.
CONTRACT_ENV = {
    "DB_HOST",
    "DB_PORT",
    "DB_USER",
    "DB_PASSWORD",
    "DB_NAME",
    "DB_SSLMODE",
    "PORT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "OIDC_ENABLED",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "GUNICORN_WORKERS",
    "GUNICORN_TIMEOUT",
    "Q_WORKERS",
    "ADMIN_CONFIG",
    "BACKUP_DIR",
    "DEBUG",
}
FULL_VALUES = {
    "database.passwordSecret": "innominatus-db",
    "oidc.enabled": "true",
    "oidc.issuer": "https://sso.example.com/realms/platform",
    "oidc.clientId": "innominatus",
    "oidc.clientSecret": "s3cret",
    "oidc.redirectUrl": "https://idp.example.com/auth/oidc/callback",
    "config.pushgatewayUrl": "http://pushgateway:9091",
    "config.redisUrl": "redis://redis:6379/0",
    "config.trustedProxies[0]": "10.0.0.0/8",
    "config.csrfTrustedOrigins[0]": "https://idp.example.com",
}


def secret_ref(value: Any) -> tuple[str, str]:
    ref = value["secretKeyRef"]
    return ref["name"], ref["key"]


def test_every_contract_variable_reaches_every_container(chart: Any) -> None:
    manifests = chart.render(set_values={**FULL_VALUES, "backup.enabled": "true"})
    optional = {
        "DB_PASSWORD_SECRET",
        "OIDC_ISSUER",
        "OIDC_CLIENT_ID",
        "OIDC_CLIENT_SECRET",
        "OIDC_REDIRECT_URL",
        "PUSHGATEWAY_URL",
        "REDIS_URL",
        "TRUSTED_PROXIES",
        "CSRF_TRUSTED_ORIGINS",
    }
    for kind, name, container in (
        ("Deployment", "innominatus", "server"),
        ("Deployment", "innominatus-worker", "worker"),
        ("Job", "innominatus-migrate", "migrate"),
        ("CronJob", "innominatus-backup", "backup"),
    ):
        env = chart.env(chart.container(chart.find(manifests, kind, name), container))
        missing = (CONTRACT_ENV | optional) - env.keys()
        assert not missing, f"{kind}/{name} lacks {sorted(missing)}"
    server = chart.env(chart.container(chart.find(manifests, "Deployment", "innominatus"), "server"))
    assert server["DB_PASSWORD_SECRET"] == "innominatus-db"
    assert server["OIDC_ENABLED"] == "true"
    assert server["TRUSTED_PROXIES"] == "10.0.0.0/8"
    assert server["CSRF_TRUSTED_ORIGINS"] == "https://idp.example.com"


def test_secret_keys_and_references(chart: Any) -> None:
    manifests = chart.render(
        set_values={
            "database.password": "pw",
            "oidc.enabled": "true",
            "oidc.clientSecret": "client",
            "secrets.secretKey": "k" * 50,
        }
    )
    secret = chart.find(manifests, "Secret", "innominatus-secrets")
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data == {"db-password": "pw", "secret-key": "k" * 50, "oidc-client-secret": "client"}
    env = chart.env(chart.container(chart.find(manifests, "Deployment", "innominatus"), "server"))
    assert secret_ref(env["DB_PASSWORD"]) == ("innominatus-secrets", "db-password")
    assert secret_ref(env["SECRET_KEY"]) == ("innominatus-secrets", "secret-key")
    assert secret_ref(env["OIDC_CLIENT_SECRET"]) == ("innominatus-secrets", "oidc-client-secret")


def test_encryption_key_is_optional(chart: Any) -> None:
    plain = chart.find(chart.render(), "Secret", "innominatus-secrets")
    assert "encryption-key" not in plain["data"], "an empty key would replace the SECRET_KEY-derived one"
    manifests = chart.render(set_values={"secrets.encryptionKey": "e" * 44})
    secret = chart.find(manifests, "Secret", "innominatus-secrets")
    assert base64.b64decode(secret["data"]["encryption-key"]).decode() == "e" * 44
    env = chart.env(chart.container(chart.find(manifests, "Deployment", "innominatus-worker"), "worker"))
    assert env["ENCRYPTION_KEY"]["secretKeyRef"] == {
        "name": "innominatus-secrets",
        "key": "encryption-key",
        "optional": True,
    }


def test_existing_secret_replaces_chart_secret(chart: Any) -> None:
    manifests = chart.render(set_values={"secrets.existingSecret": "platform-creds"})
    assert not [m for m in manifests if m["kind"] == "Secret"]
    for kind, name, container in (
        ("Deployment", "innominatus", "server"),
        ("Job", "innominatus-migrate", "migrate"),
    ):
        env = chart.env(chart.container(chart.find(manifests, kind, name), container))
        assert secret_ref(env["SECRET_KEY"]) == ("platform-creds", "secret-key")
        assert secret_ref(env["DB_PASSWORD"]) == ("platform-creds", "db-password")


def test_migration_job_is_a_pre_install_hook(chart: Any) -> None:
    manifests = chart.render(set_values={"database.passwordSecret": "innominatus-db"})
    job = chart.find(manifests, "Job", "innominatus-migrate")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    c = chart.container(job, "migrate")
    assert c.get("command", []) + c.get("args", []) == ["python", "manage.py", "migrate", "--noinput"]
    assert chart.pod_spec(job)["restartPolicy"] == "Never"
    # Everything the Job uses must be a hook created before it: at pre-install nothing else exists.
    pod = chart.pod_spec(job)
    used = {
        ("ServiceAccount", pod["serviceAccountName"]),
        ("ConfigMap", next(v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v)),
        ("Secret", chart.env(c)["SECRET_KEY"]["secretKeyRef"]["name"]),
        ("Role", "innominatus-migrate"),
        ("RoleBinding", "innominatus-migrate"),
    }
    job_weight = int(annotations["helm.sh/hook-weight"])
    for kind, name in used:
        dependency = chart.find(manifests, kind, name)["metadata"].get("annotations", {})
        assert "pre-install" in dependency.get("helm.sh/hook", ""), f"{kind}/{name} is not a hook"
        assert int(dependency["helm.sh/hook-weight"]) < job_weight
    role = chart.find(manifests, "Role", "innominatus-migrate")
    assert role["rules"] == [
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["innominatus-db", "innominatus-db-new"],
            "verbs": ["get"],
        },
        {
            "apiGroups": ["apps"],
            "resources": ["deployments"],
            "resourceNames": ["innominatus"],
            "verbs": ["get"],
        },
    ]
    assert "Job/innominatus-migrate" not in chart.names(
        chart.render(set_values={"migrations.enabled": "false"})
    )


def test_ingress_routes_to_http_port_and_trusts_its_host(chart: Any) -> None:
    manifests = chart.render(
        set_values={
            "ingress.enabled": "true",
            "ingress.className": "nginx",
            "ingress.hosts[0].host": "idp.example.com",
            "ingress.hosts[0].paths[0].path": "/",
            "ingress.hosts[0].paths[0].pathType": "Prefix",
            "ingress.tls[0].secretName": "idp-tls",
            "ingress.tls[0].hosts[0]": "idp.example.com",
        }
    )
    ingress = chart.find(manifests, "Ingress", "innominatus")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "idp.example.com"
    assert rule["http"]["paths"][0]["backend"] == {
        "service": {"name": "innominatus", "port": {"name": "http"}}
    }
    assert ingress["spec"]["tls"] == [{"secretName": "idp-tls", "hosts": ["idp.example.com"]}]
    env = chart.env(chart.container(chart.find(manifests, "Deployment", "innominatus"), "server"))
    assert "idp.example.com" in env["ALLOWED_HOSTS"].split(",")
    assert env["CSRF_TRUSTED_ORIGINS"] == "https://idp.example.com"


def test_allowed_hosts_cover_probes_and_service_names(chart: Any) -> None:
    server = chart.container(chart.find(chart.render(), "Deployment", "innominatus"), "server")
    hosts = chart.env(server)["ALLOWED_HOSTS"].split(",")
    # Kubelet probes and Prometheus address the pod by IP; Kubernetes expands $(POD_IP).
    assert hosts[0] == "$(POD_IP)"
    assert [e["name"] for e in server["env"]].index("POD_IP") < [e["name"] for e in server["env"]].index(
        "ALLOWED_HOSTS"
    )
    assert {"innominatus", "innominatus.platform.svc", "innominatus.platform.svc.cluster.local"} <= set(hosts)


def test_backup_cronjob_writes_to_claim(chart: Any) -> None:
    manifests = chart.render(
        set_values={"backup.enabled": "true", "backup.keep": "9", "backup.schedule": "30 1 * * *"}
    )
    cron = chart.find(manifests, "CronJob", "innominatus-backup")
    assert cron["spec"]["schedule"] == "30 1 * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    c = chart.container(cron, "backup")
    assert c["args"] == ["python", "manage.py", "backup", "--output-dir", "/backups", "--keep", "9"]
    mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/backups")
    volume = next(v for v in chart.pod_spec(cron)["volumes"] if v["name"] == mount["name"])
    claim = chart.find(manifests, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"

    existing = chart.render(
        set_values={"backup.enabled": "true", "backup.persistence.existingClaim": "nfs-backups"}
    )
    assert not [m for m in existing if m["kind"] == "PersistentVolumeClaim"]
    volumes = chart.pod_spec(chart.find(existing, "CronJob", "innominatus-backup"))["volumes"]
    assert {"name": "backups", "persistentVolumeClaim": {"claimName": "nfs-backups"}} in volumes


def test_network_policy(chart: Any) -> None:
    manifests = chart.render(
        set_values={
            "networkPolicy.enabled": "true",
            "networkPolicy.kubernetesApiCidrs[0]": "172.18.0.2/32",
            "database.port": "6432",
        }
    )
    policy = chart.find(manifests, "NetworkPolicy", "innominatus")["spec"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    # It covers the server, the worker and the jobs.
    for name in ("innominatus", "innominatus-worker"):
        labels = chart.find(manifests, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    [ingress] = policy["ingress"]
    # The server port, and the workers' metrics port for Prometheus.
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8081}, {"protocol": "TCP", "port": 9108}]
    namespaces = ingress["from"][0]["namespaceSelector"]["matchExpressions"][0]
    assert namespaces["key"] == "kubernetes.io/metadata.name"
    assert namespaces["values"] == ["ingress-nginx", "monitoring"]
    egress_ports = [{p["port"] for p in rule["ports"]} for rule in policy["egress"]]
    assert {53} in egress_ports  # DNS
    assert {6432} in egress_ports  # PostgreSQL
    api_rule = next(r for r in policy["egress"] if {p["port"] for p in r["ports"]} == {443, 6443})
    assert api_rule["to"] == [{"ipBlock": {"cidr": "172.18.0.2/32"}}]
