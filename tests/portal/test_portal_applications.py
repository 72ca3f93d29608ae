"""Applications: list with search, detail with spec/resources/workflows/revisions, the revision diff."""

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.portal.factories import add_revision, make_application, make_execution, make_resource
from workflows.choices import ExecutionStatus, ResourceState
from workflows.models import ManifestSet, WorkflowExecution

pytestmark = pytest.mark.django_db


def test_list_requires_sign_in(client: Client) -> None:
    response = client.get("/apps")
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)


def test_list_shows_only_the_users_teams_and_searches_by_name(
    portal: Client, developer: Any, outsider: Any
) -> None:
    make_application(developer, "billing-api")
    make_application(developer, "checkout")
    make_application(outsider, "secret-thing")

    listed = portal.get("/apps")
    assert [a.name for a in listed.context["page"].object_list] == ["billing-api", "checkout"]
    assert "secret-thing" not in listed.content.decode()

    searched = portal.get("/apps", {"q": "bill"})
    assert [a.name for a in searched.context["page"].object_list] == ["billing-api"]
    assert portal.get("/apps", {"q": "nothing"}).content.decode().count("No application matches") == 1


def test_list_is_paginated(portal: Client, developer: Any) -> None:
    for index in range(27):
        make_application(developer, f"app-{index:02d}")
    first = portal.get("/apps")
    assert len(first.context["page"].object_list) == 25
    assert 'rel="next"' in first.content.decode()
    second = portal.get("/apps", {"page": 2})
    assert [a.name for a in second.context["page"].object_list] == ["app-25", "app-26"]


def test_empty_list_invites_a_first_deploy(portal: Client) -> None:
    assert "Deploy your first spec" in portal.get("/apps").content.decode()


def test_detail_shows_spec_resources_workflows_and_revisions(portal: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    add_revision(app, developer, image="nginx:1.28", comment="bump")
    make_resource(app, "db", state=ResourceState.DEGRADED, hints={"connection": "check the password"})
    make_execution(app, status=ExecutionStatus.FAILED, workflow_name="deploy-shop")

    response = portal.get(reverse("portal:application-detail", args=["shop"]))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<span class="nt">image</span>' in body  # Pygments-highlighted YAML
    assert "nginx:1.28" in body
    assert 'data-status="degraded"' in body
    assert "check the password" in body
    assert "deploy-shop" in body
    assert [r.number for r in response.context["revisions"].object_list] == [2, 1]
    assert "bump" in body
    assert reverse("portal:application-diff", args=["shop"]) + "?to=2" in body


def test_other_teams_application_is_not_found(portal: Client, outsider: Any) -> None:
    make_application(outsider, "hidden")
    assert portal.get("/apps/hidden").status_code == 404
    assert portal.get("/apps/hidden/diff").status_code == 404


def test_platform_admin_sees_every_team(platform_admin: Any, outsider: Any, client_for: Any) -> None:
    make_application(outsider, "anyone")
    assert client_for(platform_admin).get("/apps/anyone").status_code == 200


def test_diff_shows_both_revisions_side_by_side(portal: Client, developer: Any) -> None:
    web = make_application(developer, "web")
    add_revision(web, developer, image="nginx:1.29")

    response = portal.get("/apps/web/diff")

    assert response.status_code == 200
    assert (response.context["old"].number, response.context["new"].number) == (1, 2)
    changed = [row for row in response.context["rows"] if row.kind == "replace"]
    assert any("nginx:1.27" in row.old_text and "nginx:1.29" in row.new_text for row in changed)
    assert response.context["changes"][0]["path"] == "containers.main.image"
    assert 'class="old changed"' in response.content.decode()


def test_diff_of_the_first_revision_says_there_is_nothing_before(portal: Client, developer: Any) -> None:
    make_application(developer, "solo")
    response = portal.get("/apps/solo/diff")
    assert response.status_code == 200
    assert "is the first one" in response.content.decode()


def test_diff_with_unknown_or_malformed_revision_is_not_found(portal: Client, developer: Any) -> None:
    make_application(developer, "solo")
    assert portal.get("/apps/solo/diff", {"from": "9"}).status_code == 404
    assert portal.get("/apps/solo/diff", {"to": "x"}).status_code == 404


@pytest.mark.parametrize("rows", [1, 20])
def test_list_query_count_does_not_grow_with_rows(
    rows: int, portal: Client, developer: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(rows):
        app = make_application(developer, f"app-{index}")
        make_resource(app)
        make_execution(app)
    with django_assert_max_num_queries(7):
        assert portal.get("/apps").status_code == 200


@pytest.mark.parametrize("rows", [1, 20])
def test_detail_query_count_does_not_grow_with_rows(
    rows: int, portal: Client, developer: Any, django_assert_max_num_queries: Any
) -> None:
    app = make_application(developer, "wide")
    for index in range(rows):
        make_resource(app, f"db{index}")
        make_execution(app)
    # 12: two of them count the inbox for the navigation, one decorates the recent runs with step
    # counts (constant, whatever the rows).
    with django_assert_max_num_queries(12):
        assert portal.get("/apps/wide").status_code == 200


def test_rollback_deploys_an_earlier_revision_as_a_new_one(portal: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    add_revision(app, developer, image="nginx:1.28")
    page = portal.get("/apps/shop").content.decode()
    assert 'aria-label="Roll back to revision 1"' in page
    assert 'aria-label="Roll back to revision 2"' not in page  # the current one

    # The first POST only asks: it shows the diff the rollback applies and changes nothing.
    asked = portal.post("/apps/shop/rollback", {"revision": "1"})
    assert asked.status_code == 200
    body = asked.content.decode()
    assert "Roll shop back to revision #1?" in body
    assert "nginx:1.28" in body and "nginx:1.27" in body  # the image change, both sides
    assert 'name="confirmed" value="yes"' in body and 'href="/apps/shop"' in body
    app.refresh_from_db()
    assert app.current_revision.number == 2 and not WorkflowExecution.objects.exists()

    response = portal.post("/apps/shop/rollback", {"revision": "1", "confirmed": "yes"})

    app.refresh_from_db()
    assert app.current_revision is not None
    assert (app.current_revision.number, app.current_revision.rolled_back_from) == (3, 1)
    execution = WorkflowExecution.objects.get(revision=app.current_revision)
    assert execution.trigger == "rollback"
    assert response["Location"] == f"/workflows/{execution.pk}"


def test_rollback_to_a_missing_revision_says_so(portal: Client, developer: Any) -> None:
    make_application(developer, "shop")
    response = portal.post("/apps/shop/rollback", {"revision": "7", "confirmed": "yes"}, follow=True)
    assert "has no revision 7" in response.content.decode()
    assert not WorkflowExecution.objects.exists()


def test_rollback_needs_deploy_rights_and_visibility(
    portal: Client, developer: Any, outsider: Any, viewer: Any, client_for: Any
) -> None:
    make_application(outsider, "theirs")
    assert portal.post("/apps/theirs/rollback", {"revision": "1"}).status_code == 404
    make_application(developer, "mine")
    assert client_for(viewer).post("/apps/mine/rollback", {"revision": "1"}).status_code == 403
    assert portal.get("/apps/mine/rollback").status_code == 405
    assert not WorkflowExecution.objects.exists()


def test_detail_shows_the_manifests_of_the_last_deploy(portal: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    assert "Nothing deployed yet" in portal.get("/apps/shop").content.decode()
    ManifestSet.objects.create(
        application=app,
        app_name="shop",
        revision_number=1,
        namespace="shop",
        applied=False,
        reason="no cluster is configured",
        manifests=[{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop"}}],
    )
    body = portal.get("/apps/shop").content.decode()
    assert "<summary>Deployment/shop</summary>" in body
    assert "rendered, not applied" in body and "no cluster is configured" in body
