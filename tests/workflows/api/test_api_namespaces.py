"""Namespaces at submit: derived from team and application, claimed once in the database, never reserved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.apps import apps as django_apps
from rest_framework.test import APIClient

from innominatus.accounts.models import Team
from workflows.models import Application, NamespaceClaim
from workflows.providers.registry import forget_registry

pytestmark = pytest.mark.django_db


def spec(name: str, resources: dict[str, Any] | None = None) -> str:
    document: dict[str, Any] = {
        "apiVersion": "score.dev/v1b1",
        "metadata": {"name": name},
        "containers": {"web": {"image": "nginx"}},
    }
    if resources:
        document["resources"] = resources
    return yaml.safe_dump(document)


def post(client: APIClient, text: str, **params: str) -> Any:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return client.post(f"/api/applications?{query}", data=text, content_type="application/yaml")


def problem_paths(response: Any) -> list[str]:
    assert response["Content-Type"].startswith("application/problem+json")
    return [error["path"] for error in response.json()["errors"]]


def test_the_namespace_is_derived_from_team_and_application_and_stored(api: APIClient) -> None:
    assert post(api, spec("shop")).status_code == 201
    claim = NamespaceClaim.objects.get()
    assert (claim.name, claim.app_name, claim.environment, claim.team.name) == (
        "team-a-shop",
        "shop",
        "",
        "team-a",
    )


def test_a_namespace_another_application_holds_is_a_conflict_decided_by_the_database(
    api: APIClient, make_user: Any
) -> None:
    # team "team-a-bb" with application "cc" and team "team-a" with "bb-cc" compute "team-a-bb-cc".
    other = APIClient()
    other.force_authenticate(make_user("other", team="team-a-bb"))
    first = post(other, spec("cc"))
    assert first.status_code == 201, first.json()
    response = post(api, spec("bb-cc"))
    assert response.status_code == 409
    assert problem_paths(response) == ["metadata.name"]
    assert "team-a-bb-cc" in response.json()["detail"]
    assert not Application.objects.filter(name="bb-cc").exists()
    assert NamespaceClaim.objects.get(name="team-a-bb-cc").app_name == "cc"


@pytest.mark.parametrize(
    "name", ["kube-system", "kube-anything", "default", "innominatus", "innominatus-shared"]
)
def test_reserved_names_are_refused_with_the_path(api: APIClient, name: str) -> None:
    response = post(api, spec(name))
    assert response.status_code == 400
    assert problem_paths(response) == ["metadata.name"]
    assert "reserved" in response.json()["detail"]
    assert not Application.objects.exists()


def test_a_team_whose_namespaces_would_be_kubernetes_own_is_refused(make_user: Any) -> None:
    client = APIClient()
    client.force_authenticate(make_user("k", team="kube"))
    response = post(client, spec("system"))
    assert response.status_code == 400
    assert "'kube-system' is reserved" in response.json()["detail"]


def test_the_release_namespace_and_configured_names_are_reserved(
    api: APIClient, settings: Any, tmp_path: Path
) -> None:
    settings.RELEASE_NAMESPACE = "platform"
    settings.RESERVED_NAMESPACES = ["team-a-legacy", "team-a-ops-*"]
    config = tmp_path / "admin-config.yaml"
    config.write_text(yaml.safe_dump({"deploy": {"reservedNamespaces": ["team-a-monitoring"]}}))
    settings.ADMIN_CONFIG = str(config)
    forget_registry()
    for name in ("platform", "legacy", "ops-tools", "monitoring"):
        response = post(api, spec(name))
        assert response.status_code == 400, name
        assert problem_paths(response) == ["metadata.name"]
    assert post(api, spec("shop")).status_code == 201


def test_the_namespace_resource_may_only_name_a_namespace_of_the_team(api: APIClient) -> None:
    for target, path in (("kube-system", "reserved"), ("team-b-shop", "outside team team-a")):
        response = post(api, spec("web", {"extra": {"type": "namespace", "params": {"name": target}}}))
        assert response.status_code == 400
        assert problem_paths(response) == ["resources.extra.params.name"]
        assert path in response.json()["detail"]
    assert (
        post(
            api, spec("web", {"extra": {"type": "namespace", "params": {"name": "team-a-jobs"}}})
        ).status_code
        == 201
    )


def test_applications_from_before_claims_keep_their_namespace() -> None:
    module = __import__("workflows.migrations.0008_namespace_claims", fromlist=["claim_existing_namespaces"])
    team = Team.objects.create(name="old-team")
    Application.objects.create(name="legacy-app", team=team)
    module.claim_existing_namespaces(django_apps, None)
    assert NamespaceClaim.objects.get(app_name="legacy-app").name == "legacy-app"
