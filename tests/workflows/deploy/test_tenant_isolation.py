"""The attack matrix: a developer of team B, with nothing but the API, against a realistic cluster.

Every golden path, every built-in resource type and application names that collide with the
cluster's namespaces or with team A's are tried. Each is refused with a 4xx or fails its step with
the ownership message, and every object team B does not own is byte-identical afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from innominatus.accounts.models import Team
from tests.fakekube import FakeKube
from tests.fakekube.cluster import TEAM_A, TEAM_A_APP, TEAM_A_NAMESPACE
from tests.workflows.deploy.helpers import failure_report
from workflows.choices import ExecutionStatus
from workflows.models import Application, DeploymentRevision, NamespaceClaim, WorkflowExecution

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("platform", "fake_kubeconfig")]

TEAM_B = "team-b"
OWNERSHIP_MESSAGES = (
    "is not managed by innominatus",
    "managed by innominatus for another team",
    "without an owning team",
    "belongs to another application",
    "belongs to another environment",
)
RESOURCES: dict[str, dict[str, Any]] = {
    "postgres": {"type": "postgres"},
    "mysql": {"type": "mysql"},
    "redis": {"type": "redis"},
    "s3": {"type": "s3"},
    "volume": {"type": "volume"},
    "dns": {"type": "dns"},
    "route": {"type": "route", "params": {"host": "web.apps.test", "path": "/", "port": "web"}},
    "environment": {"type": "environment"},
    "namespace": {"type": "namespace"},
    "service-port": {"type": "service-port", "params": {"workload": "web-own", "port": "web"}},
}


def spec(name: str, resources: dict[str, Any] | None = None) -> str:
    document: dict[str, Any] = {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": name},
        "containers": {"web": {"image": "nginx"}},
        "service": {"ports": {"web": {"port": 80}}},
    }
    if resources:
        document["resources"] = resources
    return yaml.safe_dump(document)


def team_a_application() -> None:
    """team-a's `shop` as the database knows it: it matches the objects the fake cluster holds."""
    team = Team.objects.get_or_create(name=TEAM_A)[0]
    app = Application.objects.create(name=TEAM_A_APP, team=team)
    revision = DeploymentRevision.objects.create(
        application=app, number=1, spec=yaml.safe_load(spec(TEAM_A_APP)), content_hash="0" * 64
    )
    Application.objects.filter(pk=app.pk).update(current_revision=revision)
    NamespaceClaim.objects.create(name=TEAM_A_NAMESPACE, application=app, app_name=app.name, team=team)


def team_b_application(name: str) -> Application:
    """A team-b application known to the database (no deploy needed to be a target)."""
    team = Team.objects.get_or_create(name=TEAM_B)[0]
    app = Application.objects.create(name=name, team=team)
    revision = DeploymentRevision.objects.create(
        application=app, number=1, spec=yaml.safe_load(spec(name)), content_hash="0" * 64
    )
    Application.objects.filter(pk=app.pk).update(current_revision=revision)
    NamespaceClaim.objects.create(name=f"{TEAM_B}-{name}", application=app, app_name=name, team=team)
    return app


def not_team_b(fake: FakeKube) -> dict[str, bytes]:
    """Snapshot of every object team B does not own."""
    owned = {
        f"{o['kind']} {o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
        for o in fake.objects()
        if (o["metadata"].get("labels") or {}).get("innominatus.io/team") == TEAM_B
    }
    return {key: value for key, value in fake.snapshot().items() if key not in owned}


def submit(client: APIClient, text: str) -> Any:
    return client.post("/api/applications", data=text, content_type="application/yaml")


def golden(client: APIClient, path: str, **parameters: Any) -> Any:
    return client.post(f"/api/golden-paths/{path}/execute", {"parameters": parameters}, format="json")


def outcome(response: Any, app_name: str) -> str:
    """'refused <status>' for a 4xx, 'ownership' when the run failed with the ownership message."""
    if 400 <= response.status_code < 500:
        return f"refused {response.status_code}"
    execution = WorkflowExecution.objects.filter(app_name=app_name).order_by("-created_at").first()
    assert execution is not None, response.content
    report = failure_report(execution)
    if execution.status == ExecutionStatus.FAILED and any(
        m in execution.error_message for m in OWNERSHIP_MESSAGES
    ):
        return "ownership"
    return f"{execution.status}: {report}"


def _case(id_: str, action: Any, expected: str) -> Any:
    return pytest.param(action, expected, id=id_)


def _foreign_namespace_first(kind: str) -> Any:
    """team B's computed namespace already exists, created by someone else (kubectl)."""

    def attack(client: APIClient, fake: FakeKube) -> tuple[Any, str]:
        name = f"web-{kind}"
        fake.put(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"{TEAM_B}-{name}"}},
            manager="kubectl",
        )
        return submit(client, spec(name, {"res": RESOURCES[kind]})), name

    return attack


def _named(name: str, resources: dict[str, Any] | None = None) -> Any:
    def attack(client: APIClient, fake: FakeKube) -> tuple[Any, str]:
        return submit(client, spec(name, resources)), name

    return attack


def _path(path: str, **parameters: Any) -> Any:
    def attack(client: APIClient, fake: FakeKube) -> tuple[Any, str]:
        return golden(client, path, **parameters), str(parameters.get("app_name"))

    return attack


def _own_then(path: str, **parameters: Any) -> Any:
    """A golden path on team B's own application `web-own`, aimed elsewhere by its parameters."""

    def attack(client: APIClient, fake: FakeKube) -> tuple[Any, str]:
        return golden(client, path, app_name="web-own", **parameters), "web-own"

    return attack


def _environment_collision(client: APIClient, fake: FakeKube) -> tuple[Any, str]:
    """team B's environment `web-own`/`preview` and a new application `web-own-preview` compute the
    same namespace: the second claim is refused by the database."""
    assert (
        golden(client, "ephemeral-env", app_name="web-own", environment="preview", ttl="1h").status_code
        == 201
    )
    return submit(client, spec("web-own-preview")), "web-own-preview"


CASES = [
    # The issue's own example: ephemeral-env as kube/system, and its teardown.
    _case(
        "ephemeral-env-kube-system",
        _path("ephemeral-env", app_name="kube", environment="system"),
        "refused 400",
    ),
    _case(
        "ephemeral-env-teardown-kube-system",
        _path("ephemeral-env-teardown", app_name="kube", environment="system"),
        "refused 400",
    ),
    _case(
        "ephemeral-env-team-a-app",
        _path("ephemeral-env", app_name=TEAM_A_APP, environment="preview"),
        "refused 400",
    ),
    _case(
        "ephemeral-env-teardown-team-a-app",
        _path("ephemeral-env-teardown", app_name=TEAM_A_APP, environment="preview"),
        "refused 400",
    ),
    _case(
        "ephemeral-env-teardown-unknown-env",
        _own_then("ephemeral-env-teardown", environment="system"),
        "refused 400",
    ),
    _case(
        "ephemeral-env-default", _path("ephemeral-env", app_name="default", environment="x"), "refused 400"
    ),
    _case("deploy-app-team-a", _path("deploy-app", app_name=TEAM_A_APP), "refused 400"),
    _case("deploy-app-kube-system", _path("deploy-app", app_name="kube-system"), "refused 400"),
    _case("deploy-app-release", _path("deploy-app", app_name="innominatus"), "refused 400"),
    _case("deploy-app-shared", _path("deploy-app", app_name="innominatus-shared"), "refused 400"),
    _case(
        "ephemeral-env-release",
        _path("ephemeral-env", app_name="innominatus", environment="preview"),
        "refused 400",
    ),
    _case("undeploy-app-team-a", _path("undeploy-app", app_name=TEAM_A_APP), "refused 400"),
    _case("undeploy-app-kube-public", _path("undeploy-app", app_name="kube-public"), "refused 400"),
    _case("undeploy-app-default", _path("undeploy-app", app_name="default"), "refused 400"),
    _case(
        "db-lifecycle-team-a", _path("db-lifecycle", app_name=TEAM_A_APP, operation="backup"), "refused 400"
    ),
    _case(
        "db-lifecycle-kube-system",
        _path("db-lifecycle", app_name="kube-system", operation="backup"),
        "refused 400",
    ),
    _case(
        "db-lifecycle-shared",
        _path("db-lifecycle", app_name="innominatus-shared", operation="rotate-password"),
        "refused 400",
    ),
    # Application names that are, or collide with, namespaces that are not team B's.
    *[
        _case(f"app-named-{name}", _named(name), "refused 400")
        for name in (
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "default",
            "innominatus",
            "innominatus-shared",
        )
    ],
    _case("app-named-like-team-a", _named(TEAM_A_APP), "refused 403"),
    _case("app-colliding-with-own-environment", _environment_collision, "refused 409"),
    # The namespace resource may not name a namespace outside team B's.
    *[
        _case(
            f"namespace-param-{target}",
            _named("web-ns", {"ns": {"type": "namespace", "params": {"name": target}}}),
            "refused 400",
        )
        for target in ("kube-system", "default", "innominatus", TEAM_A_NAMESPACE, "innominatus-shared")
    ],
    # Every built-in resource type: under team A's application name, and into a namespace innominatus
    # does not own.
    *[
        _case(f"{kind}-as-team-a-app", _named(TEAM_A_APP, {"res": declared}), "refused 403")
        for kind, declared in RESOURCES.items()
    ],
    *[
        _case(f"{kind}-into-foreign-namespace", _foreign_namespace_first(kind), "ownership")
        for kind in RESOURCES
    ],
    # A link to team A's workload is refused at submit: service-port reads only the caller's team.
    _case(
        "service-port-to-team-a",
        _named(
            "web-link", {"dep": {"type": "service-port", "params": {"workload": TEAM_A_APP, "port": "web"}}}
        ),
        "refused 400",
    ),
]


@pytest.mark.parametrize(("attack", "expected"), CASES)
def test_team_b_touches_nothing_it_does_not_own(
    attack: Any, expected: str, make_user: Any, fake_kube: FakeKube
) -> None:
    team_a_application()
    team_b_application("web-own")
    client = APIClient()
    client.force_authenticate(make_user("bob", team=TEAM_B))
    before = not_team_b(fake_kube)

    response, app_name = attack(client, fake_kube)

    assert outcome(response, app_name) == expected
    if expected.startswith("refused"):
        assert response["Content-Type"].startswith("application/problem+json")
    after = fake_kube.snapshot()
    changed = [key for key, value in before.items() if after.get(key) != value]
    assert changed == []


def test_the_attack_matrix_covers_every_golden_path_and_resource_type() -> None:
    from workflows.goldenpaths.catalog import golden_paths

    ids = [case.id for case in CASES]
    assert all(any(i.startswith(f"{path}-") for i in ids) for path in golden_paths())
    assert {path for path in (p.split("-into-")[0] for p in ids if "-into-" in p)} == set(RESOURCES)
    assert len(CASES) >= 50


def test_an_ephemeral_environment_is_created_and_torn_down_as_its_applications_own(
    make_user: Any, fake_kube: FakeKube
) -> None:
    team_a_application()
    team_b_application("web-own")
    client = APIClient()
    client.force_authenticate(make_user("bob", team=TEAM_B))
    before = not_team_b(fake_kube)

    created = golden(client, "ephemeral-env", app_name="web-own", environment="pr-7", ttl="1h")
    assert created.status_code == 201, created.json()
    execution = WorkflowExecution.objects.get(pk=created.json()["id"])
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    namespace = fake_kube.get_object("Namespace", "team-b-web-own-pr-7")
    assert namespace is not None
    assert namespace["metadata"]["labels"]["innominatus.io/environment"] == "pr-7"
    assert fake_kube.get_object("ResourceQuota", "ephemeral-quota", "team-b-web-own-pr-7") is not None

    # The teardown's trigger `golden-path:ephemeral-env-teardown` fits its column: it runs.
    teardown = golden(client, "ephemeral-env-teardown", app_name="web-own", environment="pr-7")
    assert teardown.status_code == 201, teardown.json()
    execution = WorkflowExecution.objects.get(pk=teardown.json()["id"])
    assert execution.trigger == "golden-path:ephemeral-env-teardown"
    assert execution.status == ExecutionStatus.COMPLETED, failure_report(execution)
    assert fake_kube.get_object("Namespace", "team-b-web-own-pr-7") is None
    after = fake_kube.snapshot()
    assert [key for key, value in before.items() if after.get(key) != value] == []


def test_deleting_an_application_never_deletes_a_namespace_it_no_longer_owns(
    make_user: Any, fake_kube: FakeKube
) -> None:
    client = APIClient()
    client.force_authenticate(make_user("bob", team=TEAM_B))
    assert submit(client, spec("web-gone")).status_code == 201
    deployed = WorkflowExecution.objects.get(app_name="web-gone")
    assert deployed.status == ExecutionStatus.COMPLETED, failure_report(deployed)
    # Someone hands the namespace to another owner behind innominatus's back.
    fake_kube.store.delete(fake_kube.resource_type("Namespace"), None, "team-b-web-gone")
    fake_kube.put(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b-web-gone"}}, manager="kubectl"
    )
    before = not_team_b(fake_kube)

    assert client.delete("/api/applications/web-gone").status_code == 204
    undeploy = WorkflowExecution.objects.filter(app_name="web-gone", trigger="delete").get()
    assert undeploy.status == ExecutionStatus.FAILED
    assert "namespace team-b-web-gone exists and is not managed by innominatus" in undeploy.error_message
    after = fake_kube.snapshot()
    assert [key for key, value in before.items() if after.get(key) != value] == []
