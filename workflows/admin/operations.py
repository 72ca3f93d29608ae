"""The operator console's actions: cancel, retry, approve/reject, recover, run the reaper, reload providers.

Every action is limited to platform admins (superusers or a role granting `admin:*`) — staff who may
browse the admin are refused — and is recorded in the audit log with the objects it touched and its
outcome. They call the same services as the API and the portal, so the state rules are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from innominatus.accounts import audit
from innominatus.accounts.access import is_platform_admin
from workflows.choices import StepStatus
from workflows.models import WorkflowExecution
from workflows.services import reaper, scheduler
from workflows.services.executions import (
    ActionNotAllowed,
    DecisionRefused,
    approve_step,
    cancel_execution,
    reject_step,
    retry_execution,
)

ADMIN_ONLY = "Only platform admins may act from the operator console."


def require_platform_admin(request: HttpRequest) -> None:
    if not is_platform_admin(request.user):
        raise PermissionDenied(ADMIN_ONLY)


def _audit(request: HttpRequest, action: str, object_id: str, outcome: str, **summary: Any) -> None:
    audit.record(
        f"admin.{action}",
        user=request.user,
        object_type="execution" if object_id.startswith("wf-") else "platform",
        object_id=object_id,
        summary={"outcome": outcome, **summary},
        request=request,
    )


def _each(
    request: HttpRequest,
    queryset: QuerySet[WorkflowExecution],
    action: str,
    do: Callable[[WorkflowExecution], str],
) -> None:
    """Run `do` on each selected execution; report and audit every outcome, refusals included."""
    require_platform_admin(request)
    done, refused = [], []
    for execution in queryset.order_by("created_at"):
        try:
            note = do(execution)
        except (ActionNotAllowed, DecisionRefused) as exc:
            detail = str(getattr(exc, "detail", exc))
            refused.append(f"{execution.pk}: {detail}")
            _audit(request, action, execution.pk, "refused", reason=detail)
        else:
            done.append(f"{execution.pk}{f' ({note})' if note else ''}")
            _audit(request, action, execution.pk, "done", note=note)
    if done:
        messages.success(request, f"{action.capitalize()}: {', '.join(done)}.")
    for line in refused:
        messages.warning(request, f"Not {action}: {line}")


@admin.action(description="Cancel the selected executions")
def cancel_executions(model_admin: Any, request: HttpRequest, queryset: QuerySet[WorkflowExecution]) -> None:
    def do(execution: WorkflowExecution) -> str:
        cancel_execution(execution=execution, user=request.user, reason="cancelled from the operator console")
        return ""

    _each(request, queryset, "cancelled", do)


@admin.action(description="Retry the selected failed or cancelled executions")
def retry_executions(model_admin: Any, request: HttpRequest, queryset: QuerySet[WorkflowExecution]) -> None:
    _each(request, queryset, "retried", lambda e: f"as {retry_execution(execution=e, user=request.user).pk}")


@admin.action(description="Recover the selected stuck executions (expired leases, stalled scheduling)")
def recover_executions(model_admin: Any, request: HttpRequest, queryset: QuerySet[WorkflowExecution]) -> None:
    def do(execution: WorkflowExecution) -> str:
        report = reaper.ReapReport()
        expired = [step for step in reaper.expired_steps() if step.execution_id == execution.pk]
        for step in expired:
            reaper.recover_step(step, report)
        scheduler.advance_and_dispatch(execution.pk)
        return (
            f"{len(expired)} expired lease{'s' if len(expired) != 1 else ''} recovered, scheduling advanced"
        )

    _each(request, queryset, "recovered", do)


class DecisionForm(forms.Form):
    comment = forms.CharField(
        required=True,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded with it.",
    )


def _decide(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[WorkflowExecution], *, approve: bool
) -> HttpResponse | None:
    """An intermediate page asks for the comment; the second POST (with `apply`) decides."""
    require_platform_admin(request)
    verb = "approved" if approve else "rejected"
    form = DecisionForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        comment = form.cleaned_data["comment"]
        decide = approve_step if approve else reject_step

        def do(execution: WorkflowExecution) -> str:
            waiting = execution.steps.filter(status=StepStatus.WAITING).order_by("position")
            step = waiting.first()
            if step is None:
                raise ActionNotAllowed(f"{execution.pk} has no step waiting for approval")
            decide(execution=execution, user=request.user, step_name=step.name, comment=comment)
            return step.name

        _each(request, queryset, verb, do)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{'Approve' if approve else 'Reject'} the waiting step of {queryset.count()} execution(s)",
        "executions": queryset,
        "form": form,
        "action": request.POST.get("action", ""),
        "verb": "Approve" if approve else "Reject",
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/workflows/decide.html", context)


@admin.action(description="Approve the waiting step (asks for a comment)")
def approve_executions(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[WorkflowExecution]
) -> HttpResponse | None:
    return _decide(model_admin, request, queryset, approve=True)


@admin.action(description="Reject the waiting step (asks for a comment)")
def reject_executions(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[WorkflowExecution]
) -> HttpResponse | None:
    return _decide(model_admin, request, queryset, approve=False)


EXECUTION_ACTIONS = [
    cancel_executions,
    retry_executions,
    approve_executions,
    reject_executions,
    recover_executions,
]


def operator_actions(model_admin: Any, request: HttpRequest, actions: dict[str, Any]) -> dict[str, Any]:
    """Non-admins do not even see the operator actions (and are refused if they post them anyway)."""
    if not is_platform_admin(request.user):
        for action in EXECUTION_ACTIONS:
            actions.pop(action.__name__, None)
    return actions
