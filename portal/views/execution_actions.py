"""Actions on an execution from the portal: cancel, retry, approve and reject (POST forms with CSRF)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal.confirm import Confirmation, ask, confirmed
from portal.forms import DecisionForm
from portal.permissions import requires
from portal.views.executions import visible_execution
from workflows.services.executions import (
    ActionNotAllowed,
    DecisionRefused,
    approve_step,
    cancel_execution,
    reject_step,
    retry_execution,
)


def _back(execution_id: str) -> HttpResponse:
    return redirect(reverse("portal:execution-detail", args=[execution_id]))


@require_POST
@requires("workflows:write")
def cancel(request: HttpRequest, execution_id: str) -> HttpResponse:
    """Cancel a running execution."""
    execution = visible_execution(request, execution_id)
    if not confirmed(request) and not execution.is_terminal:
        running = list(
            execution.steps.filter(status__in=["running", "waiting"]).values_list("name", flat=True)
        )
        return ask(
            request,
            Confirmation(
                title=f"Cancel {execution.pk}?",
                consequence=(
                    f"{execution.workflow_name} of {execution.app_name} stops: "
                    + (
                        f"the running step{'s' if len(running) != 1 else ''} {', '.join(running)} "
                        "are stopped and "
                        if running
                        else ""
                    )
                    + "no further step starts. What already ran is not undone."
                ),
                button="Cancel execution",
                back_url=reverse("portal:execution-detail", args=[execution.pk]),
                fields={"reason": request.POST.get("reason", "")[:500]},
            ),
        )
    try:
        cancel_execution(execution=execution, user=request.user, reason=request.POST.get("reason", "")[:500])
    except ActionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Cancelled {execution.pk}.")
    return _back(execution.pk)


@require_POST
@requires("workflows:write")
def retry(request: HttpRequest, execution_id: str) -> HttpResponse:
    """Start a retry of a failed or cancelled execution and show it."""
    execution = visible_execution(request, execution_id)
    if not confirmed(request):
        return ask(
            request,
            Confirmation(
                title=f"Retry {execution.pk}?",
                consequence=(
                    f"A new execution of {execution.workflow_name} for {execution.app_name} starts now with the "
                    "same parameters; its steps run again, including any deploy."
                ),
                button="Start the retry",
                tone="info",
                back_url=reverse("portal:execution-detail", args=[execution.pk]),
            ),
        )
    try:
        new = retry_execution(execution=execution, user=request.user)
    except ActionNotAllowed as exc:
        messages.error(request, str(exc))
        return _back(execution.pk)
    messages.success(request, f"Retrying {execution.pk} as {new.pk}.")
    return _back(new.pk)


def _decide(request: HttpRequest, execution_id: str, *, approve: bool) -> HttpResponse:
    execution = visible_execution(request, execution_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the step to decide on.")
        return _back(execution.pk)
    if not approve and not confirmed(request):
        step = form.cleaned_data["step"]
        return ask(
            request,
            Confirmation(
                title=f"Reject {step}?",
                consequence=(
                    f"The gate {step} is refused: {execution.pk} ({execution.workflow_name} of "
                    f"{execution.app_name}) fails and the steps after the gate never run."
                ),
                button=f"Reject {step}",
                back_url=reverse("portal:execution-detail", args=[execution.pk]),
                fields={"step": step, "comment": form.cleaned_data.get("comment") or ""},
            ),
        )
    decide = approve_step if approve else reject_step
    try:
        step = decide(
            execution=execution,
            user=request.user,
            step_name=form.cleaned_data["step"],
            comment=form.cleaned_data.get("comment") or "",
        )
    except ActionNotAllowed as exc:
        messages.error(request, str(exc))
    except DecisionRefused as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, f"Step {step.name} {'approved' if approve else 'rejected'}.")
    return _back(execution.pk)


@require_POST
@requires("workflows:write")
def approve(request: HttpRequest, execution_id: str) -> HttpResponse:
    """Approve a waiting gate."""
    return _decide(request, execution_id, approve=True)


@require_POST
@requires("workflows:write")
def reject(request: HttpRequest, execution_id: str) -> HttpResponse:
    """Reject a waiting gate; the workflow fails."""
    return _decide(request, execution_id, approve=False)
