"""Honest states: rendered-only, deployed, deploying, failed and waiting for approval each look different."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.portal.factories import make_application, make_execution, make_resource, make_step
from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import Application, ManifestSet, StepExecution

pytestmark = pytest.mark.django_db


def manifests(app: Application, *, applied: bool, reason: str = "") -> ManifestSet:
    return ManifestSet.objects.create(
        application=app, app_name=app.name, revision_number=1, applied=applied, reason=reason, manifests=[]
    )


def test_a_render_only_deploy_is_not_shown_as_deployed(portal: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    manifests(app, applied=False, reason="no cluster configured")
    resource = make_resource(app, "db")
    resource.metadata = {"applied": False, "render_only_reason": "no cluster configured"}
    resource.save(update_fields=["metadata"])

    body = portal.get("/apps/shop").content.decode()
    assert 'data-state="rendered"' in body
    assert "rendered only, not applied" in body and "Nothing was applied to a cluster." in body
    assert 'title="no cluster configured"' in body
    assert 'data-state="deployed"' not in body
    assert 'data-state="rendered"' in portal.get("/resources").content.decode()
    assert 'data-state="rendered"' in portal.get("/apps").content.decode()


def test_a_real_deploy_deploying_and_failed_look_different(portal: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    manifests(app, applied=True)
    make_resource(app, "db")
    body = portal.get("/apps/shop").content.decode()
    assert 'data-state="deployed"' in body and 'data-state="rendered"' not in body
    Application.objects.filter(pk=app.pk).update(deploy_state="deploying")
    assert 'data-state="deploying"' in portal.get("/apps/shop").content.decode()
    Application.objects.filter(pk=app.pk).update(deploy_state="failed", deploy_message="image pull failed")
    failed = portal.get("/apps/shop").content.decode()
    assert 'data-state="failed"' in failed and "image pull failed" in failed


def test_waiting_for_approval_is_named_and_a_render_only_run_says_so(portal: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    waiting = make_execution(app, status=ExecutionStatus.WAITING)
    make_step(waiting, "gate", status=StepStatus.WAITING)
    assert 'data-state="waiting"' in portal.get("/apps/shop").content.decode()
    page = portal.get(f"/workflows/{waiting.pk}").content.decode()
    assert "waiting for approval" in page

    rendered = make_execution(app, status=ExecutionStatus.COMPLETED)
    step = make_step(rendered, "deploy", status=StepStatus.COMPLETED)
    StepExecution.objects.filter(pk=step.pk).update(
        outputs={"render_only": True, "reason": "render-only mode"}
    )
    page = portal.get(f"/workflows/{rendered.pk}").content.decode()
    assert 'data-state="rendered"' in page and "completed, rendered only" in page
