"""Operator console actions: they work for platform admins, are audited, and are refused to everyone else."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from innominatus.accounts.models import AuditEvent
from tests.portal.factories import launch_gated
from tests.workflows.api.factories import make_application, make_execution, make_step
from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import WorkflowExecution

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/workflows/workflowexecution/"


@pytest.fixture(autouse=True)
def plain_static_files(settings: Any) -> None:
    """Admin templates need static URLs; the manifest storage would need collectstatic first."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_client_(platform_admin: Any) -> Client:
    client = Client()
    client.force_login(platform_admin)
    return client


@pytest.fixture
def staff_client(make_user: Any) -> Client:
    """Staff who may browse executions in the admin but are no platform admins."""
    user = make_user("ops-viewer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    client = Client()
    client.force_login(user)
    return client


def act(client: Client, action: str, *ids: str, **extra: str) -> Any:
    return client.post(CHANGELIST, {"action": action, "_selected_action": list(ids), **extra}, follow=True)


# The engine runs for real (django-q2 in sync mode) and commits from its own threads.
@pytest.mark.django_db(transaction=True)
def test_cancel_and_retry_are_audited(admin_client_: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    running = launch_gated(app, developer)
    response = act(admin_client_, "cancel_executions", running.pk)
    assert response.status_code == 200
    running.refresh_from_db()
    assert running.status == ExecutionStatus.CANCELLED
    event = AuditEvent.objects.get(action="admin.cancelled", object_id=running.pk)
    assert event.summary["outcome"] == "done" and event.username == "platform-admin"

    act(admin_client_, "retry_executions", running.pk)
    assert WorkflowExecution.objects.filter(parent=running).count() == 1
    assert AuditEvent.objects.filter(action="admin.retried", object_id=running.pk).exists()

    # A refused action (cancelling a finished run) says why and is audited as refused.
    again = act(admin_client_, "cancel_executions", running.pk)
    assert "Not cancelled" in again.content.decode()
    assert AuditEvent.objects.filter(action="admin.cancelled", summary__outcome="refused").exists()


def test_approve_asks_for_a_comment_then_decides(admin_client_: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    waiting = make_execution(app, status=ExecutionStatus.WAITING)
    gate = make_step(waiting, "gate", status=StepStatus.WAITING)
    page = act(admin_client_, "approve_executions", waiting.pk)
    assert "Approve the waiting step" in page.content.decode()
    gate.refresh_from_db()
    assert gate.status == StepStatus.WAITING  # asking decided nothing

    act(admin_client_, "approve_executions", waiting.pk, apply="yes", comment="checked the plan")
    gate.refresh_from_db()
    assert gate.status != StepStatus.WAITING
    assert gate.decision_comment == "checked the plan"
    assert AuditEvent.objects.filter(action="admin.approved", object_id=waiting.pk).exists()


def test_operations_dashboard_reaper_and_provider_reload(admin_client_: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    make_execution(app, status=ExecutionStatus.FAILED, error_message="boom at step 2")
    page = admin_client_.get("/admin/operations/").content.decode()
    for section in ("ops-stuck", "ops-workers", "ops-queue", "ops-failures"):
        assert f'id="{section}"' in page
    assert "boom at step 2" in page and "docs/operations.md" in page
    assert admin_client_.post("/admin/operations/reaper").status_code == 302
    assert AuditEvent.objects.filter(action="admin.reaper.run").exists()
    assert admin_client_.post("/admin/operations/providers").status_code == 302
    assert AuditEvent.objects.filter(action="admin.providers.reload").exists()


def test_non_admins_cannot_act(staff_client: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    running = make_execution(app, status=ExecutionStatus.RUNNING)
    listing = staff_client.get(CHANGELIST).content.decode()
    assert "cancel_executions" not in listing and "approve_executions" not in listing
    act(staff_client, "cancel_executions", running.pk)
    running.refresh_from_db()
    assert running.status == ExecutionStatus.RUNNING
    assert staff_client.post("/admin/operations/reaper").status_code == 403
    assert staff_client.post("/admin/operations/providers").status_code == 403
    assert not AuditEvent.objects.filter(action__startswith="admin.").exists()


def test_console_is_branded_without_bulk_delete_and_readable(admin_client_: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    execution = make_execution(app)
    WorkflowExecution.objects.filter(pk=execution.pk).update(definition={"kind": "Workflow", "steps": ["a"]})
    index = admin_client_.get("/admin/").content.decode()
    assert "innominatus operator console" in index and "Django administration" not in index
    assert "delete_selected" not in admin_client_.get("/admin/workflows/application/").content.decode()
    detail = admin_client_.get(f"{CHANGELIST}{execution.pk}/change/").content.decode()
    assert '<pre class="yaml">' in detail and '<span class="nt">kind</span>' in detail
    assert str(app.current_revision) == "shop revision 1"
