"""Revisions of an application, their diffs, and the deprecated /api/specs alias."""

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.workflows.api.factories import HELLO, make_application, post_spec
from workflows.models import Application, DeploymentRevision

pytestmark = pytest.mark.django_db


def test_revisions_list_detail_and_diff(submit: Callable[..., Any], api: APIClient) -> None:
    submit(HELLO, comment="one")
    submit(HELLO.replace("nginx:1.27", "nginx:1.28") + "  cache:\n    type: redis\n", comment="two")

    listed = api.get("/api/applications/hello/revisions").json()
    assert listed["count"] == 2
    assert [r["number"] for r in listed["results"]] == [2, 1]
    assert [r["comment"] for r in listed["results"]] == ["two", "one"]

    detail = api.get("/api/applications/hello/revisions/1").json()
    assert detail["source"] == HELLO
    assert detail["spec"]["containers"]["main"]["image"] == "nginx:1.27"

    diff = api.get("/api/applications/hello/revisions/1/diff/2").json()
    assert diff["from_revision"] == 1
    assert diff["to_revision"] == 2
    assert "-    image: nginx:1.27" in diff["unified"]
    assert "+    image: nginx:1.28" in diff["unified"]
    changes = {c["path"]: c for c in diff["changes"]}
    assert changes["containers.main.image"] == {
        "path": "containers.main.image",
        "pointer": "/containers/main/image",
        "op": "changed",
        "old": "nginx:1.27",
        "new": "nginx:1.28",
    }
    assert changes["resources.cache"]["op"] == "added"
    assert changes["resources.cache"]["new"] == {"type": "redis"}

    backwards = api.get("/api/applications/hello/revisions/2/diff/1").json()
    assert {c["path"]: c["op"] for c in backwards["changes"]}["resources.cache"] == "removed"


def test_unknown_revision_and_application_are_404(submit: Callable[..., Any], api: APIClient) -> None:
    submit(HELLO)
    assert api.get("/api/applications/hello/revisions/9").status_code == 404
    assert api.get("/api/applications/hello/revisions/1/diff/9").status_code == 404
    response = api.get("/api/applications/nope/revisions")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_other_teams_revisions_are_404(api: APIClient, make_user: Any) -> None:
    make_application(make_user("bob", team="team-b"), "bobs-app")
    assert api.get("/api/applications/bobs-app/revisions").status_code == 404
    assert api.get("/api/applications/bobs-app/revisions/1").status_code == 404
    assert api.get("/api/applications/bobs-app/revisions/1/diff/1").status_code == 404


def test_specs_alias_behaves_like_applications_and_is_marked_deprecated(api: APIClient) -> None:
    created = post_spec(api, HELLO, path="/api/specs")
    assert created.status_code == 201
    assert created["Deprecation"] == "true"
    assert created["Link"] == '</api/applications>; rel="successor-version"'
    assert created["Location"].endswith("/api/specs/hello")

    again = post_spec(api, HELLO, path="/api/specs")
    assert again.status_code == 200
    assert again.json()["created"] is False

    listed = api.get("/api/specs")
    assert listed["Deprecation"] == "true"
    assert listed.json() == api.get("/api/applications").json()
    assert api.get("/api/specs/hello").json() == api.get("/api/applications/hello").json()

    invalid = post_spec(api, "apiVersion: nope\n", path="/api/specs")
    assert invalid.status_code == 400
    assert invalid["Deprecation"] == "true"

    deleted = api.delete("/api/specs/hello")
    assert deleted.status_code == 204
    assert deleted["Deprecation"] == "true"
    assert not Application.objects.exists()
    assert not DeploymentRevision.objects.exists()


def test_applications_do_not_carry_deprecation(api: APIClient) -> None:
    assert "Deprecation" not in api.get("/api/applications")
