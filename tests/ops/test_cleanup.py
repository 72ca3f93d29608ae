"""manage.py cleanup: retention of finished executions with their steps and logs, q2 history,
expired sessions, audit events and expired or revoked API keys; --dry-run only counts; the lock
keeps replicas apart."""

import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Task

from innominatus.accounts.models import ApiKey, AuditEvent
from innominatus.locks import command_lock
from ops.tasks import CLEANUP_LOCK, run_cleanup
from workflows.models import StepExecution, StepLog, WorkflowExecution

pytestmark = pytest.mark.django_db(transaction=True)


def _execution(age_days: int, status: str, logs: int = 3) -> WorkflowExecution:
    moment = timezone.now() - timedelta(days=age_days)
    execution = WorkflowExecution.objects.create(
        app_name="shop",
        workflow_name="deploy",
        status=status,
        definition={},
        created_at=moment,
        started_at=moment,
        completed_at=moment if status != "running" else None,
    )
    step = StepExecution.objects.create(
        execution=execution, name="s1", step_type="script", position=0, status="completed"
    )
    StepLog.objects.bulk_create(
        StepLog(execution=execution, step=step, seq=i, message=f"line {i}", created_at=moment)
        for i in range(logs)
    )
    return execution


@pytest.fixture
def history(make_user: Any) -> dict[str, Any]:
    old_done = _execution(120, "completed")
    old_failed = _execution(100, "failed")
    old_running = _execution(120, "running")
    recent = _execution(10, "completed")
    long_ago = timezone.now() - timedelta(days=200)
    for name, stopped in (("old-task", long_ago), ("new-task", timezone.now())):
        Task.objects.create(
            id=name, name=name, func="ops.tasks.run_cleanup", started=stopped, stopped=stopped, success=True
        )
    Session.objects.create(
        session_key="expired", session_data="x", expire_date=timezone.now() - timedelta(days=1)
    )
    Session.objects.create(
        session_key="live", session_data="x", expire_date=timezone.now() + timedelta(days=1)
    )
    user = make_user("keyowner")
    ApiKey.objects.create(user=user, name="old", prefix="inn_old", key_hash="a" * 64, expires_at=long_ago)
    ApiKey.objects.create(
        user=user,
        name="live",
        prefix="inn_new",
        key_hash="b" * 64,
        expires_at=timezone.now() + timedelta(days=9),
    )
    in_a_year = timezone.now() + timedelta(days=365)
    ApiKey.objects.create(
        user=user,
        name="revoked-long-ago",
        prefix="inn_rev",
        key_hash="c" * 64,
        expires_at=in_a_year,
        revoked_at=long_ago,
    )
    # Revoked within the retention: kept, so the audit trail can still name it.
    ApiKey.objects.create(
        user=user,
        name="revoked-lately",
        prefix="inn_rec",
        key_hash="d" * 64,
        expires_at=in_a_year,
        revoked_at=timezone.now() - timedelta(days=3),
    )
    AuditEvent.objects.create(occurred_at=long_ago, username="keyowner", action="api_key.create")
    AuditEvent.objects.create(occurred_at=long_ago, username="keyowner", action="login")
    AuditEvent.objects.create(username="keyowner", action="login")
    return {"old": [old_done.id, old_failed.id], "kept": [old_running.id, recent.id]}


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("cleanup", *args, stdout=out)
    return out.getvalue()


def test_dry_run_counts_without_deleting(history: dict[str, Any]) -> None:
    output = _run("--days", "90", "--dry-run")
    assert "would delete" in output
    for line in (
        "executions: 2",
        "steps: 2",
        "logs: 6",
        "q2_tasks: 1",
        "sessions: 1",
        "audit_events: 2",
        "api_keys: 2",
    ):
        assert line in output
    assert WorkflowExecution.objects.count() == 4
    assert StepLog.objects.count() == 12
    assert AuditEvent.objects.count() == 3
    assert ApiKey.objects.count() == 4


def test_cleanup_deletes_only_old_finished_work_and_expired_records(history: dict[str, Any]) -> None:
    output = _run("--days", "90")
    assert "executions: 2" in output and "logs: 6" in output
    assert sorted(WorkflowExecution.objects.values_list("id", flat=True)) == sorted(history["kept"])
    assert not StepLog.objects.filter(execution_id__in=history["old"]).exists()
    assert StepLog.objects.count() == 6
    assert list(Task.objects.values_list("name", flat=True)) == ["new-task"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    assert sorted(ApiKey.objects.values_list("name", flat=True)) == ["live", "revoked-lately"]
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["login"]
    assert AuditEvent.objects.get().occurred_at > timezone.now() - timedelta(days=1)
    again = _run("--days", "90")
    assert "executions: 0" in again and "audit_events: 0" in again and "api_keys: 0" in again


def test_a_second_cleanup_refuses_while_the_lock_is_held(history: dict[str, Any]) -> None:
    with command_lock(CLEANUP_LOCK):
        with pytest.raises(CommandError, match="lock held"):
            _run("--days", "90")
        assert run_cleanup() == {"skipped": "locked"}
    result = run_cleanup()
    assert (result["executions"], result["audit_events"], result["api_keys"]) == (2, 2, 2)


def test_days_must_be_positive() -> None:
    with pytest.raises(CommandError):
        _run("--days", "0")
