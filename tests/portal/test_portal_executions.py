"""Workflow executions: the filterable list, the detail page, its live fragments and the actions."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from tests.portal.factories import launch_gated, make_application, make_execution, make_log, make_step
from workflows.choices import ExecutionStatus, StepStatus
from workflows.models import StepExecution, WorkflowExecution

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(developer: Any) -> Any:
    return make_application(developer, "shop")


def test_list_filters_by_app_status_workflow_and_time(portal: Client, app: Any, developer: Any) -> None:
    other = make_application(developer, "billing")
    ok = make_execution(app, status=ExecutionStatus.COMPLETED, workflow_name="deploy")
    failed = make_execution(app, status=ExecutionStatus.FAILED, workflow_name="db-lifecycle")
    old = make_execution(other, status=ExecutionStatus.FAILED, created_ago=timedelta(days=3))

    def ids(**query: str) -> set[str]:
        response = portal.get("/workflows", query)
        assert response.status_code == 200
        return {e.pk for e in response.context["page"].object_list}

    assert ids() == {ok.pk, failed.pk, old.pk}
    assert ids(app="shop") == {ok.pk, failed.pk}
    assert ids(status="failed") == {failed.pk, old.pk}
    assert ids(workflow="db-") == {failed.pk}
    assert ids(range="24h") == {ok.pk, failed.pk}
    assert ids(status="failed", range="7d", app="bill") == {old.pk}


def test_list_hides_other_teams_and_paginates(portal: Client, app: Any, outsider: Any) -> None:
    theirs = make_execution(make_application(outsider, "theirs"))
    for index in range(26):
        make_execution(app, created_ago=timedelta(minutes=index))
    first = portal.get("/workflows")
    assert first.context["page"].paginator.count == 26
    assert theirs.pk not in first.content.decode()
    assert len(portal.get("/workflows", {"page": 2}).context["page"].object_list) == 1


def test_invalid_filter_values_are_ignored_not_fatal(portal: Client, app: Any) -> None:
    make_execution(app)
    response = portal.get("/workflows", {"status": "bogus", "range": "forever"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_detail_draws_graph_timeline_steps_and_logs(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    build = make_step(execution, "build", position=0, status=StepStatus.COMPLETED)
    make_step(execution, "test-a", position=1, status=StepStatus.RUNNING, depends_on=["build"])
    make_step(execution, "test-b", position=2, status=StepStatus.FAILED, depends_on=["build"])
    make_step(execution, "ship", position=3, status=StepStatus.PENDING, depends_on=["test-a", "test-b"])
    make_log(build, 1, "compiling <everything>")

    response = portal.get(f"/workflows/{execution.pk}")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="step-graph" role="img"' in body
    assert body.count('class="node graph-node') == 4
    assert 'class="gantt" role="img"' in body
    # Only the completed step counts as done: a failed step never fills the bar.
    assert 'aria-valuenow="1"' in body and 'aria-valuemax="4"' in body
    assert 'class="spinner"' in body
    assert "compiling &lt;everything&gt;" in body
    assert f'id="log-{build.pk}"' in body
    assert f'hx-get="/workflows/{execution.pk}/logs?after=' in body
    assert 'hx-trigger="every 2s, refresh"' in body


def test_other_teams_execution_is_not_found_anywhere(portal: Client, outsider: Any) -> None:
    theirs = make_execution(make_application(outsider, "theirs"), status=ExecutionStatus.RUNNING)
    for suffix in ("", "/status", "/logs"):
        assert portal.get(f"/workflows/{theirs.pk}{suffix}").status_code == 404
    for action in ("cancel", "retry", "approve", "reject"):
        assert portal.post(f"/workflows/{theirs.pk}/{action}", {"step": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ExecutionStatus.RUNNING


def test_status_fragment_polls_while_running_and_stops_when_terminal(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    make_step(execution, "only", status=StepStatus.RUNNING)
    running = portal.get(f"/workflows/{execution.pk}/status").content.decode()
    assert 'hx-trigger="every 2s, refresh"' in running

    StepExecution.objects.filter(execution=execution).update(status=StepStatus.COMPLETED)
    WorkflowExecution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.COMPLETED)
    done = portal.get(f"/workflows/{execution.pk}/status").content.decode()
    assert "hx-trigger" not in done
    assert 'data-status="completed"' in done


def test_status_fragment_sends_actions_only_when_they_changed(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.WAITING)
    make_step(execution, "gate", status=StepStatus.WAITING)
    first = portal.get(f"/workflows/{execution.pk}/status")
    signature = first.context["signature"]
    assert 'hx-swap-oob="true"' in first.content.decode()
    again = portal.get(f"/workflows/{execution.pk}/status", {"sig": signature}).content.decode()
    assert 'id="actions"' not in again
    assert f"sig={signature.replace('|', '%7C')}" in again


def test_log_fragment_returns_only_new_lines_and_stops_when_done(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    step = make_step(execution, "talk", status=StepStatus.RUNNING)
    first = make_log(step, 1, "one")
    make_log(step, 2, "two")

    response = portal.get(f"/workflows/{execution.pk}/logs", {"after": first.pk})
    body = response.content.decode()
    assert "two" in body and ">one<" not in body
    assert f'hx-swap-oob="beforeend:#log-{step.pk}"' in body
    assert 'hx-trigger="every 1s, refresh"' in body

    # A run that ended while a step still runs (cancelled, its worker not yet done) is still followed.
    WorkflowExecution.objects.filter(pk=execution.pk).update(status=ExecutionStatus.CANCELLED)
    after = response.context["after"]
    assert "hx-trigger" in portal.get(f"/workflows/{execution.pk}/logs", {"after": after}).content.decode()
    assert "hx-trigger" in portal.get(f"/workflows/{execution.pk}/status").content.decode()

    StepExecution.objects.filter(pk=step.pk).update(status=StepStatus.CANCELLED)
    assert "hx-trigger" not in portal.get(f"/workflows/{execution.pk}/status").content.decode()
    final = portal.get(
        f"/workflows/{execution.pk}/logs", {"after": response.context["after"]}
    ).content.decode()
    assert "hx-trigger" not in final
    assert 'data-complete="true"' in final


# The engine runs for real (django-q2 in sync mode): its log writer commits from its own threads,
# so these tests commit too instead of running inside one rolled-back transaction.
@pytest.mark.django_db(transaction=True)
def test_gate_is_approved_from_the_page(portal: Client, app: Any, developer: Any) -> None:
    execution = launch_gated(app, developer)
    execution.refresh_from_db()
    assert execution.steps.get(name="gate").status == StepStatus.WAITING

    page = portal.get(f"/workflows/{execution.pk}").content.decode()
    assert '<div class="decision" data-step="gate">' in page
    assert "Approve gate" in page
    response = portal.post(f"/workflows/{execution.pk}/approve", {"step": "gate", "comment": "looks good"})
    assert response.status_code == 302
    gate = execution.steps.get(name="gate")
    assert gate.decided_by == developer and gate.decision_comment == "looks good"
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_gate_is_rejected_and_the_run_can_be_retried(portal: Client, app: Any, developer: Any) -> None:
    execution = launch_gated(app, developer)
    asked = portal.post(f"/workflows/{execution.pk}/reject", {"step": "gate", "comment": "not today"})
    assert "Reject gate?" in asked.content.decode() and 'value="not today"' in asked.content.decode()
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.WAITING  # asking changed nothing
    portal.post(
        f"/workflows/{execution.pk}/reject", {"step": "gate", "comment": "not today", "confirmed": "yes"}
    )
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.FAILED
    assert "Retry" in portal.get(f"/workflows/{execution.pk}").content.decode()

    assert "Retry " in portal.post(f"/workflows/{execution.pk}/retry").content.decode()
    assert not WorkflowExecution.objects.filter(parent=execution).exists()
    response = portal.post(f"/workflows/{execution.pk}/retry", {"confirmed": "yes"})
    retry = WorkflowExecution.objects.get(parent=execution)
    assert response["Location"] == f"/workflows/{retry.pk}"


def test_cancel_stops_a_running_execution_once(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    make_step(execution, "wait", status=StepStatus.PENDING)
    asked = portal.post(f"/workflows/{execution.pk}/cancel")
    assert asked.status_code == 200 and f"Cancel {execution.pk}?" in asked.content.decode()
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.RUNNING
    assert portal.post(f"/workflows/{execution.pk}/cancel", {"confirmed": "yes"}).status_code == 302
    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.CANCELLED
    again = portal.post(f"/workflows/{execution.pk}/cancel", {"confirmed": "yes"}, follow=True)
    assert "already cancelled" in again.content.decode()


def test_approving_a_step_that_is_not_waiting_says_so(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    make_step(execution, "gate", status=StepStatus.RUNNING)
    response = portal.post(f"/workflows/{execution.pk}/approve", {"step": "gate"}, follow=True)
    assert "is not waiting for approval" in response.content.decode()


def test_viewers_see_but_may_not_act(viewer: Any, client_for: Any, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.WAITING)
    make_step(execution, "gate", status=StepStatus.WAITING)
    client = client_for(viewer)
    page = client.get(f"/workflows/{execution.pk}").content.decode()
    assert "may view this execution but not act" in page
    assert "Approve" not in page
    assert client.post(f"/workflows/{execution.pk}/approve", {"step": "gate"}).status_code == 403
    assert client.post(f"/workflows/{execution.pk}/cancel").status_code == 403


def test_actions_need_post(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    assert portal.get(f"/workflows/{execution.pk}/cancel").status_code == 405


@pytest.mark.parametrize("rows", [1, 20])
def test_list_query_count_does_not_grow_with_rows(
    rows: int, portal: Client, app: Any, django_assert_max_num_queries: Any
) -> None:
    for index in range(rows):
        execution = make_execution(app, created_ago=timedelta(minutes=index))
        make_step(execution, "a")
    # The page is chosen on indexed columns, then its rows are decorated with step counts (one query).
    with django_assert_max_num_queries(8):
        assert portal.get("/workflows").status_code == 200


@pytest.mark.parametrize("rows", [1, 20])
def test_detail_query_count_does_not_grow_with_steps(
    rows: int, portal: Client, app: Any, django_assert_max_num_queries: Any
) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    for index in range(rows):
        step = make_step(
            execution, f"s{index}", position=index, depends_on=[f"s{index - 1}"] if index else []
        )
        make_log(step, 1, "line")
    with django_assert_max_num_queries(9):
        assert portal.get(f"/workflows/{execution.pk}").status_code == 200
    with django_assert_max_num_queries(7):
        assert portal.get(f"/workflows/{execution.pk}/status").status_code == 200
    with django_assert_max_num_queries(7):
        assert portal.get(f"/workflows/{execution.pk}/logs").status_code == 200


def test_log_download_and_line_links(portal: Client, app: Any) -> None:
    execution = make_execution(app, status=ExecutionStatus.RUNNING)
    talk = make_step(execution, "talk", status=StepStatus.RUNNING)
    other = make_step(execution, "other", position=1, status=StepStatus.COMPLETED)
    line = make_log(talk, 1, "attempt 1 of 3 started on worker-host-123")
    make_log(other, 1, "from the other step")

    page = portal.get(f"/workflows/{execution.pk}").content.decode()
    assert f'id="L{line.pk}"' in page and f'href="#L{line.pk}"' in page
    assert "attempt 1 of 3 started<" in page and "worker-host-123" not in page
    assert '<details class="log-panel" id="step-talk" data-step="talk" open>' in page
    assert '<details class="log-panel" id="step-other" data-step="other" >' in page

    everything = portal.get(f"/workflows/{execution.pk}/logs.txt")
    assert everything["Content-Disposition"] == f'attachment; filename="{execution.pk}.log"'
    text = b"".join(everything.streaming_content).decode()
    assert "[talk] stdout: attempt 1 of 3" in text and "[other] stdout: from the other step" in text
    one = b"".join(portal.get(f"/workflows/{execution.pk}/logs.txt", {"step": "other"}).streaming_content)
    assert b"from the other step" in one and b"attempt" not in one
