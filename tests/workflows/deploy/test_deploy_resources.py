"""Resources end to end: generated credentials reach pods as Secret refs, references between resources
resolve, params changes update, dropped resources are deprovisioned."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakekube import FakeKube
from tests.workflows.deploy.helpers import (
    env_of,
    failure_report,
    last_execution,
    ns,
    sample,
    secret_value,
    submit,
)
from workflows.choices import ExecutionStatus, ResourceState
from workflows.models import ResourceInstance
from workflows.services.resource_values import stored_secrets

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform", "fake_kubeconfig")]


def deployed(user: Any, text: str) -> str:
    result = submit(user, text)
    execution = last_execution(result.application.name)
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    return str(result.application.name)


def resource(app: str, name: str) -> ResourceInstance:
    return ResourceInstance.objects.exclude(state=ResourceState.TERMINATED).get(
        app_name=app, resource_name=name
    )


def test_postgres_dns_and_route_resolve_into_objects(developer: Any, fake_kube: FakeKube) -> None:
    app = deployed(developer, sample("spec-readme-postgres-dns-route.yaml"))
    db, dns = resource(app, "db"), resource(app, "dns")
    secrets = stored_secrets(db)
    assert (
        db.outputs["password"] == "********"
        and db.outputs["host"] == "sample-db.team-a-sample.svc.cluster.local"
    )
    assert dns.outputs == {"host": "sample-dns.apps.test"}

    # The connection string carries the password, so the pod reads it from the app's Secret.
    env = env_of(fake_kube, app)
    assert "value" not in env["PG_CONNECTION_STRING"]
    assert secret_value(fake_kube, ns(app), env["PG_CONNECTION_STRING"]) == (
        f"postgresql://{secrets['username']}:{secrets['password']}@sample-db.team-a-sample.svc.cluster.local:5432/"
        f"{secrets['database']}?sslmode=disable"
    )
    statefulset = fake_kube.get_object("StatefulSet", "sample-db", ns(app))
    assert statefulset is not None and statefulset["status"]["readyReplicas"] == 1
    db_secret = fake_kube.get_object("Secret", "sample-db", ns(app))
    assert db_secret is not None

    # The route's host came from the dns resource's output (a resource referencing another).
    ingress = fake_kube.get_object("Ingress", "sample-route", ns(app))
    assert ingress is not None
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "sample-dns.apps.test"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "sample", "port": {"number": 8080}}
    assert fake_kube.get_object("Service", "sample", ns(app))["spec"]["ports"][0]["port"] == 8080


def test_route_by_port_name_with_a_regex_path(developer: Any, fake_kube: FakeKube) -> None:
    app = deployed(developer, sample("compose-09-dns-and-route-score.yaml"))
    ingress = fake_kube.get_object("Ingress", f"{app}-route", ns(app))
    path = ingress["spec"]["rules"][0]["http"]["paths"][0]
    assert path["path"] == "/my/[^/]+/path" and path["pathType"] == "ImplementationSpecific"
    assert path["backend"]["service"]["port"] == {"name": "web"}
    files = fake_kube.get_object("ConfigMap", f"{app}-files", ns(app))
    assert sorted(files["data"].values()) == ["buzz", "fizz"]


def test_environment_and_metadata_values(developer: Any, fake_kube: FakeKube) -> None:
    app = deployed(developer, sample("compose-02-environment-score.yaml"))
    env = env_of(fake_kube, app)
    assert env["NAME"]["value"] == "World"
    assert env["WORKLOAD_NAME"]["value"] == "hello-world"
    assert env["ESCAPED"]["value"] == "$_${fizzbuzz}"
    assert fake_kube.get_object("Deployment", app, ns(app))["spec"]["template"]["spec"]["containers"][0][
        "args"
    ][1] == ("while true; do echo $${GREETING} $${NAME}!; sleep 5; done")


def test_volume_resource_is_mounted_as_its_claim(developer: Any, fake_kube: FakeKube) -> None:
    app = deployed(developer, sample("compose-05-volume-mounts-score.yaml"))
    claim = resource(app, "data").outputs["claimName"]
    assert fake_kube.get_object("PersistentVolumeClaim", claim, ns(app)) is not None
    pod = fake_kube.get_object("Deployment", app, ns(app))["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "volume-0", "persistentVolumeClaim": {"claimName": claim}}]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "volume-0", "mountPath": "/data"}]


def test_generated_values_stay_stable_and_param_changes_update(developer: Any, fake_kube: FakeKube) -> None:
    text = sample("compose-12-mysql-database-score.yaml")
    app = deployed(developer, text)
    first = stored_secrets(resource(app, "db"))
    changed = text.replace("type: mysql", "type: mysql\n    params:\n      storage: 2Gi")
    deployed(developer, changed)
    db = resource(app, "db")
    assert stored_secrets(db) == first
    assert [(t.from_state, t.to_state) for t in db.transitions.order_by("id")] == [
        ("requested", "provisioning"),
        ("provisioning", "active"),
        ("active", "updating"),
        ("updating", "active"),
    ]
    statefulset = fake_kube.get_object("StatefulSet", f"{app}-db", ns(app))
    assert statefulset["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert secret_value(fake_kube, ns(app), env_of(fake_kube, app)["CONNECTION_STRING"]).startswith(
        f"mysql://{first['username']}:{first['password']}@"
    )


def test_dropping_a_resource_deprovisions_it(developer: Any, fake_kube: FakeKube) -> None:
    text = sample("spec-readme-postgres-dns-route.yaml")
    app = deployed(developer, text)
    db = resource(app, "db")
    without_db = text.replace(
        "  db:\n    # This database is specific to this Workload and not shared.\n    type: postgres\n", ""
    )
    without_db = without_db.replace(
        '"postgresql://${resources.db.username}:${resources.db.password}@${resources.db.host}:${resources.db.port}/${resources.db.database}?sslmode=disable"',
        "none",
    )
    deployed(developer, without_db)
    db.refresh_from_db()
    assert db.state == ResourceState.TERMINATED
    assert db.secret_outputs == "" and not db.bindings.exists()
    assert fake_kube.get_object("StatefulSet", "sample-db", ns(app)) is None
    assert fake_kube.get_object("Secret", "sample-db", ns(app)) is None
    assert "PG_CONNECTION_STRING" in env_of(fake_kube, app)
    assert fake_kube.get_object("Ingress", "sample-route", ns(app)) is not None
    steps = dict(last_execution(app).steps.values_list("name", "status"))
    assert steps == {"deploy": "completed", "deprovision-db": "completed"}
