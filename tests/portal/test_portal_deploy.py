"""Deploy: validation shows problems at their lines and the plan; deploy records a revision."""

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.portal.factories import make_application, score
from workflows.models import Application, DeploymentRevision, WorkflowExecution

pytestmark = pytest.mark.django_db

BROKEN = """\
apiVersion: score.dev/v1b1
metadata:
  name: broken
containers:
  main:
    image: nginx
    variables:
      DB: ${resources.missing.host}
resources:
  db:
    type: no-such-type
"""


def test_form_is_shown(portal: Client) -> None:
    response = portal.get("/deploy")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="spec"' in body and 'value="validate"' in body and 'value="deploy"' in body
    assert 'enctype="multipart/form-data"' in body


def test_validate_shows_the_plan_and_records_nothing(portal: Client) -> None:
    response = portal.post("/deploy", {"spec": score("fresh"), "action": "validate"})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert (plan.application, plan.exists, plan.next_revision) == ("fresh", False, 1)
    rows = response.context["plan_rows"]
    assert [(r["name"], r["type"], r["action"], r["provider"]) for r in rows] == [
        ("db", "postgres", "create", "postgres")
    ]
    body = response.content.decode()
    assert 'data-action="create"' in body
    assert "Deployment/fresh" in body  # the rendered objects of the preview
    assert "Will record revision <strong>#1</strong>" in body
    assert not Application.objects.filter(name="fresh").exists()
    # The validated text stays in the form so that Deploy submits exactly it.
    assert "name: fresh" in response.context["form"].initial["spec"]


def test_validate_shows_every_problem_at_its_line(portal: Client) -> None:
    response = portal.post("/deploy", {"spec": BROKEN, "action": "validate"})
    assert response.status_code == 400
    problems = response.context["problems"]
    assert {p.line for p in problems} >= {8, 11}
    lines = response.context["source_lines"]
    assert [p.line for p in lines[7].problems] == [8]
    body = response.content.decode()
    assert 'data-line="8"' in body and 'data-line="11"' in body
    assert 'class="has-problem" id="line-8"' in body


def test_windows_line_endings_keep_line_numbers(portal: Client) -> None:
    response = portal.post("/deploy", {"spec": BROKEN.replace("\n", "\r\n"), "action": "validate"})
    assert response.status_code == 400
    assert len(response.context["source_lines"]) == BROKEN.count("\n")


def test_deploy_records_a_revision_and_shows_its_deploy(portal: Client) -> None:
    response = portal.post("/deploy", {"spec": score("shipit"), "action": "deploy", "comment": "first"})
    revision = DeploymentRevision.objects.get(application__name="shipit")
    assert (revision.number, revision.comment) == (1, "first")
    execution = WorkflowExecution.objects.get(revision=revision)
    assert response.status_code == 302
    assert response["Location"] == f"/workflows/{execution.pk}"
    page = portal.get(response["Location"]).content.decode()
    assert f"Recorded revision 1 of shipit; deploying it as {execution.pk}." in page


def test_deploying_the_same_spec_again_changes_nothing(portal: Client, developer: Any) -> None:
    make_application(developer, "same")
    response = portal.post("/deploy", {"spec": score("same"), "action": "deploy"}, follow=True)
    assert "Nothing changed" in response.content.decode()
    assert DeploymentRevision.objects.filter(application__name="same").count() == 1


def test_an_uploaded_file_is_used(portal: Client) -> None:
    upload = SimpleUploadedFile("score.yaml", score("uploaded").encode(), content_type="application/yaml")
    response = portal.post("/deploy", {"spec_file": upload, "action": "validate"})
    assert response.status_code == 200
    assert response.context["plan"].application == "uploaded"


def test_empty_submission_asks_for_a_spec(portal: Client) -> None:
    response = portal.post("/deploy", {"spec": "  ", "action": "validate"})
    assert response.status_code == 400
    assert "Paste a Score spec or choose a file." in response.content.decode()


def test_another_teams_application_cannot_be_overwritten(portal: Client, outsider: Any) -> None:
    make_application(outsider, "taken")
    response = portal.post("/deploy", {"spec": score("taken", "evil:1"), "action": "deploy"})
    assert response.status_code == 403
    assert "belongs to another team" in response.content.decode()
    assert DeploymentRevision.objects.filter(application__name="taken").count() == 1


def test_viewers_may_not_deploy(viewer: Any, client_for: Any) -> None:
    client = client_for(viewer)
    assert client.get("/deploy").status_code == 403
    assert client.post("/deploy", {"spec": score("nope"), "action": "deploy"}).status_code == 403
    assert not Application.objects.filter(name="nope").exists()


def test_deploy_requires_sign_in_and_a_csrf_token(client: Client, developer: Any) -> None:
    assert client.get("/deploy").status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(developer)
    assert strict.post("/deploy", {"spec": score("forged"), "action": "deploy"}).status_code == 403
    assert not Application.objects.filter(name="forged").exists()
