"""The operator console: every model's pages render, run records are read-only, no N+1, no secrets."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.workflows.api.factories import (
    count_queries,
    make_application,
    make_execution,
    make_log,
    make_resource,
    make_step,
)
from workflows.choices import ResourceState
from workflows.models import (
    Application,
    DeploymentRevision,
    ResourceInstance,
    ResourceStateTransition,
    StepExecution,
    StepLog,
    WorkflowExecution,
)

pytestmark = pytest.mark.django_db

SECRET = "ENCRYPTED-SECRET-BLOB"
MODELS = [
    Application,
    DeploymentRevision,
    WorkflowExecution,
    StepExecution,
    StepLog,
    ResourceInstance,
    ResourceStateTransition,
]
READ_ONLY = [
    DeploymentRevision,
    WorkflowExecution,
    StepExecution,
    StepLog,
    ResourceInstance,
    ResourceStateTransition,
]
MAX_QUERIES = 30


@pytest.fixture(autouse=True)
def plain_static_files(settings: Any) -> None:
    """Admin templates need static URLs; the manifest storage would need collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def console(platform_admin: Any) -> Client:
    client = Client()
    client.force_login(platform_admin)
    return client


def populate(developer: Any, index: int) -> None:
    """One of everything, with a unique application name per index."""
    app = make_application(developer, f"app-{index:02d}")
    make_application(developer, f"app-{index:02d}", image="nginx:2")
    execution = make_execution(app)
    step = make_step(execution)
    make_log(step, 1, f"hello from {index}")
    resource = make_resource(app, state=ResourceState.REQUESTED)
    resource.transition(ResourceState.PROVISIONING, actor="engine")


def url(model: type, action: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_query_count_is_constant(console: Client, developer: Any, model: type) -> None:
    populate(developer, 0)
    _, _, one = count_queries(console, url(model, "changelist"))
    for index in range(1, 12):
        populate(developer, index)
    response, total, many = count_queries(console, url(model, "changelist"))
    assert many == one
    assert total <= MAX_QUERIES
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_page_renders_without_secrets(console: Client, developer: Any, model: type) -> None:
    populate(developer, 0)
    response, total, _ = count_queries(console, url(model, "change", model.objects.first().pk))
    assert total <= MAX_QUERIES
    assert SECRET not in response.content.decode()


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_run_records_are_read_only(console: Client, developer: Any, model: type) -> None:
    populate(developer, 0)
    obj = model.objects.first()
    assert console.get(url(model, "add")).status_code == 403
    page = console.get(url(model, "change", obj.pk)).content.decode()
    assert 'name="_save"' not in page
    response = console.post(url(model, "change", obj.pk), {})
    assert response.status_code == 403
    assert console.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_execution_page_lists_steps_with_duration_and_log_link(console: Client, developer: Any) -> None:
    execution = make_execution(make_application(developer))
    step = make_step(execution, "apply-manifests")
    make_log(step, 1, "applied deployment/hello")
    page = console.get(url(WorkflowExecution, "change", execution.pk)).content.decode()
    assert "apply-manifests" in page
    assert "3.0s" in page
    log_url = url(StepLog, "changelist") + f"?step__id__exact={step.pk}"
    assert log_url in page
    log_page = console.get(log_url).content.decode()
    assert "applied deployment/hello" in log_page


def test_step_log_link_filters_by_step(console: Client, developer: Any) -> None:
    execution = make_execution(make_application(developer))
    first, second = make_step(execution, "first"), make_step(execution, "second", position=1)
    make_log(first, 1, "line of first")
    make_log(second, 1, "line of second")
    page = console.get(url(StepLog, "changelist") + f"?step__id__exact={first.pk}").content.decode()
    assert "line of first" in page
    assert "line of second" not in page


def test_resource_page_shows_transitions_but_not_the_secret(console: Client, developer: Any) -> None:
    resource = make_resource(make_application(developer), state=ResourceState.REQUESTED)
    resource.transition(ResourceState.PROVISIONING, reason="provider picked it up")
    page = console.get(url(ResourceInstance, "change", resource.pk)).content.decode()
    assert "provider picked it up" in page
    assert SECRET not in page
    assert "secret_outputs" not in page


def test_revision_diff_view(console: Client, developer: Any) -> None:
    make_application(developer, "hello")
    make_application(developer, "hello", image="nginx:1.28")
    make_application(developer, "hello", image="nginx:1.29")
    latest = DeploymentRevision.objects.get(number=3)
    page = console.get(url(DeploymentRevision, "change", latest.pk)).content.decode()
    assert url(DeploymentRevision, "diff", latest.pk) in page

    diff = console.get(url(DeploymentRevision, "diff", latest.pk))
    assert diff.status_code == 200
    text = diff.content.decode()
    assert "revision 2 → 3" in text
    assert "-    image: nginx:1.28" in text
    assert "+    image: nginx:1.29" in text
    assert "containers.main.image" in text

    against_first = console.get(url(DeploymentRevision, "diff", latest.pk) + "?against=1").content.decode()
    assert "-    image: nginx:1.27" in against_first

    first = DeploymentRevision.objects.get(number=1)
    assert console.get(url(DeploymentRevision, "diff", first.pk)).status_code == 404


def test_diff_view_needs_staff(client: Client, developer: Any) -> None:
    make_application(developer, "hello")
    revision = DeploymentRevision.objects.get()
    response = client.get(url(DeploymentRevision, "diff", revision.pk))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_application_delete_goes_through_the_service(console: Client, developer: Any) -> None:
    app = make_application(developer, "hello")
    response = console.post(url(Application, "delete", app.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Application.objects.exists()
    assert not DeploymentRevision.objects.exists()


def test_team_admin_lists_counts(console: Client, developer: Any, make_user: Callable[..., Any]) -> None:
    make_application(developer, "hello")
    make_user("second", team="team-a")
    page = console.get(reverse("admin:accounts_team_changelist")).content.decode()
    assert "team-a" in page


def test_admin_search_by_id_and_app(console: Client, developer: Any) -> None:
    wanted = make_execution(make_application(developer, "findme"))
    other = make_execution(make_application(developer, "other"))
    page = console.get(url(WorkflowExecution, "changelist") + f"?q={wanted.id}").content.decode()
    assert wanted.id in page
    assert other.id not in page
    page = console.get(url(WorkflowExecution, "changelist") + "?q=findme").content.decode()
    assert wanted.id in page
    assert other.id not in page
    page = console.get(url(WorkflowExecution, "changelist") + "?status__exact=completed").content.decode()
    assert wanted.id in page
