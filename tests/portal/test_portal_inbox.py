"""The inbox: approvals waiting on me, my teams' failed runs, counts in the navigation, dashboard banner."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.portal.factories import make_application, make_execution, make_step
from workflows.choices import ExecutionStatus, StepStatus

pytestmark = pytest.mark.django_db


def test_inbox_lists_my_approvals_and_failures_only(portal: Client, developer: Any, outsider: Any) -> None:
    app = make_application(developer, "shop")
    waiting = make_execution(app, status=ExecutionStatus.WAITING)
    make_step(waiting, "approve-release", status=StepStatus.WAITING)
    failed = make_execution(app, status=ExecutionStatus.FAILED, error_message="terraform exploded")
    retried = make_execution(app, status=ExecutionStatus.FAILED)
    make_execution(app, status=ExecutionStatus.PENDING, parent=retried)
    theirs = make_execution(make_application(outsider, "theirs"), status=ExecutionStatus.FAILED)

    page = portal.get("/inbox").content.decode()
    assert f'data-execution="{waiting.pk}"' in page and "approve-release" in page
    assert f'data-execution="{failed.pk}"' in page and "terraform exploded" in page
    assert f'data-execution="{retried.pk}"' not in page  # someone retried it already
    assert theirs.pk not in page
    assert 'class="nav-count" aria-label="1 approvals and 1 failed runs">2<' in page

    dashboard = portal.get("/").content.decode()
    assert 'id="inbox-banner"' in dashboard and "1 approval and 1 failed run" in dashboard
    assert 'hx-trigger="every 15s"' in dashboard


def test_waiting_is_not_counted_as_running(portal: Client, developer: Any) -> None:
    app = make_application(developer, "shop")
    make_execution(app, status=ExecutionStatus.WAITING)
    make_execution(app, status=ExecutionStatus.RUNNING)
    totals = portal.get("/").context["totals"]
    assert (totals["running"], totals["waiting"]) == (1, 1)


def test_viewers_get_no_approvals(viewer: Any, client_for: Any, developer: Any) -> None:
    app = make_application(developer, "shop")
    waiting = make_execution(app, status=ExecutionStatus.WAITING)
    make_step(waiting, "gate", status=StepStatus.WAITING)
    page = client_for(viewer).get("/inbox").content.decode()
    assert f'data-execution="{waiting.pk}"' not in page and "Nothing waits on you." in page
