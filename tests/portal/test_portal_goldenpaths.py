"""Golden paths: the catalogue, forms generated from parameter schemas, validation next to fields, launch."""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.portal.factories import make_application
from workflows.goldenpaths import catalog
from workflows.models import WorkflowExecution

pytestmark = pytest.mark.django_db

CATALOG = """\
goldenpaths:
  scale-app:
    workflow: ./scale.yaml
    description: Change the size of an application.
    category: operations
    tags: [scaling, day-2]
    estimated_duration: 2 minutes
"""

WORKFLOW = """\
apiVersion: orchestrator.innominatus.dev/v1
kind: Workflow
metadata:
  name: scale-app
spec:
  parameters:
    - name: app_name
      type: string
      required: true
      pattern: "^[a-z0-9-]+$"
      description: Application to scale.
    - name: replicas
      type: int
      default: 2
      min: 1
      max: 5
    - name: tier
      type: enum
      allowed_values: [small, large]
      default: small
    - name: dry_run
      type: bool
      default: false
    - name: window
      type: duration
    - name: regions
      type: list
  steps:
    - name: scale
      type: noop
    - name: confirm
      type: noop
      when: manual
      dependsOn: [scale]
"""


@pytest.fixture
def test_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    (tmp_path / "goldenpaths.yaml").write_text(CATALOG)
    (tmp_path / "scale.yaml").write_text(WORKFLOW)
    paths = catalog.load_catalog_file(tmp_path / "goldenpaths.yaml")
    monkeypatch.setattr(catalog, "golden_paths", lambda: paths)
    monkeypatch.setattr("portal.views.goldenpaths.golden_paths", lambda: paths)
    return paths


def test_catalogue_lists_the_shipped_paths(portal: Client) -> None:
    response = portal.get("/golden-paths")
    assert response.status_code == 200
    body = response.content.decode()
    assert "ephemeral-env" in body
    assert 'href="/golden-paths/ephemeral-env"' in body


def test_catalogue_shows_description_tags_and_duration(portal: Client, test_catalog: Any) -> None:
    body = portal.get("/golden-paths").content.decode()
    assert "Change the size of an application." in body
    assert '<span class="tag">scaling</span>' in body
    assert "≈ 2 minutes" in body
    assert 'aria-label="Run scale-app"' in body


def test_form_fields_follow_the_parameter_types(portal: Client, test_catalog: Any) -> None:
    response = portal.get("/golden-paths/scale-app")
    assert response.status_code == 200
    form = response.context["form"]
    assert form.fields["replicas"].widget.input_type == "number"
    assert form.fields["replicas"].widget.attrs["min"] == "1"
    assert form.fields["replicas"].initial == 2
    assert [value for value, _ in form.fields["tier"].choices] == ["small", "large"]
    assert [value for value, _ in form.fields["dry_run"].choices] == ["true", "false"]
    assert form.fields["dry_run"].initial == "false"
    assert "duration" in form.fields["window"].help_text
    body = response.content.decode()
    assert 'name="app_name"' in body and "required" in body.split('name="app_name"')[1].split(">")[0]
    assert "Use only lowercase letters, digits and dashes" in body  # the pattern in words, not as a regex
    assert form.fields["app_name"].label == "Application" and form.fields["dry_run"].label == "Dry run"
    assert (
        "From 1 to 5" in form.fields["replicas"].help_text
        and "Default: 2" in form.fields["replicas"].help_text
    )
    assert 'list="user-applications"' in body and '<datalist id="user-applications">' in body
    assert "approval" in body  # the manual step is marked in the step list


def test_invalid_values_are_reported_next_to_their_fields(portal: Client, test_catalog: Any) -> None:
    response = portal.post(
        "/golden-paths/scale-app", {"app_name": "Bad Name", "replicas": "9", "tier": "small"}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["app_name"][0].startswith("Use only lowercase letters, digits and dashes.")
    assert "above the maximum 5" in errors["replicas"][0]
    body = response.content.decode()
    assert 'id="errors-app_name"' in body and 'id="errors-replicas"' in body
    assert WorkflowExecution.objects.count() == 0


def test_a_missing_required_value_is_reported(portal: Client, test_catalog: Any) -> None:
    response = portal.post("/golden-paths/scale-app", {"replicas": "2"})
    assert response.status_code == 400
    assert "is required" in response.context["form"].errors["app_name"][0]


def test_valid_values_launch_the_path_and_show_the_execution(
    portal: Client, developer: Any, test_catalog: Any
) -> None:
    make_application(developer, "shop")
    response = portal.post(
        "/golden-paths/scale-app",
        {"app_name": "shop", "replicas": "3", "tier": "large", "dry_run": "true", "regions": "eu, us"},
    )
    execution = WorkflowExecution.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workflows/{execution.pk}"
    assert execution.parameters["replicas"] == 3
    assert execution.parameters["dry_run"] is True
    assert execution.parameters["regions"] == ["eu", "us"]
    assert execution.application is not None and execution.application.name == "shop"


def test_an_application_of_another_team_is_refused(portal: Client, outsider: Any, test_catalog: Any) -> None:
    make_application(outsider, "theirs")
    response = portal.post("/golden-paths/scale-app", {"app_name": "theirs"})
    assert response.status_code == 400
    assert "does not exist" in response.context["form"].errors["app_name"][0]
    assert WorkflowExecution.objects.count() == 0


def test_unknown_path_is_not_found(portal: Client) -> None:
    assert portal.get("/golden-paths/no-such-path").status_code == 404


def test_viewers_see_the_form_but_may_not_run(viewer: Any, client_for: Any, test_catalog: Any) -> None:
    client = client_for(viewer)
    page = client.get("/golden-paths/scale-app")
    assert page.status_code == 200
    assert "may view golden paths but not run them" in page.content.decode()
    assert client.post("/golden-paths/scale-app", {"app_name": "x"}).status_code == 403
    assert WorkflowExecution.objects.count() == 0


def test_sign_in_required(client: Client) -> None:
    assert client.get("/golden-paths").status_code == 302
    assert client.get("/golden-paths/ephemeral-env").status_code == 302
