"""Deploy: paste or upload a Score spec, validate it (a dry run with the plan), then submit it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from innominatus.accounts.access import visible_teams
from innominatus.problems import ProblemError
from portal.forms import DeployForm
from portal.highlight import annotate
from portal.permissions import requires
from workflows.score import ScoreValidationError
from workflows.services import SubmitPlan, submit_spec


def plan_rows(plan: SubmitPlan, deployment: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The plan's resources with the provider and current state the deploy preview found for each."""
    preview = {item["name"]: item for item in (deployment or {}).get("resources", [])}
    rows = []
    for resource in plan.resources:
        found = preview.get(resource.name, {})
        rows.append(
            {
                "name": resource.name,
                "type": resource.type,
                "resource_class": resource.resource_class,
                "resource_id": resource.resource_id,
                "action": resource.action,
                "provider": found.get("provider", ""),
                "state": found.get("state") or "",
                "shared": bool(found.get("shared")),
            }
        )
    return rows


def diff_lines(unified: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, text) lines: add, remove, hunk, file or context."""
    kinds = {"+++": "file", "---": "file", "@@": "hunk", "+": "add", "-": "remove"}
    lines = []
    for line in unified.splitlines():
        kind = next((k for prefix, k in kinds.items() if line.startswith(prefix)), "context")
        lines.append((kind, line))
    return lines


def manifest_names(manifests: list[dict[str, Any]]) -> list[str]:
    """`Kind/name` of every manifest, for a compact list."""
    return [f"{m.get('kind', '?')}/{(m.get('metadata') or {}).get('name', '?')}" for m in manifests]


def _problem_error_messages(exc: ProblemError) -> list[str]:
    found = [str(error.get("message", "")) for error in exc.errors if error.get("message")]
    return [str(exc.detail), *[message for message in found if message != str(exc.detail)]]


@require_http_methods(["GET", "POST"])
@requires("specs:create")
def deploy(request: HttpRequest) -> HttpResponse:
    """Validate shows problems at their lines and the plan; deploy records the next revision."""
    teams = list(visible_teams(request.user).values_list("name", flat=True))
    if request.method != "POST":
        return render(request, "portal/deploy.html", {"form": DeployForm(teams=teams)})
    form = DeployForm(request.POST, request.FILES, teams=teams)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "portal/deploy.html", context, status=400)
    text: str = form.cleaned_data["spec"]
    # From here on the text area holds what was checked, also when it came from an uploaded file.
    kept = {key: form.cleaned_data.get(key) for key in ("comment", "team")}
    context["form"] = DeployForm(initial={**kept, "spec": text}, teams=teams)
    dry_run = request.POST.get("action") != "deploy"
    try:
        result = submit_spec(
            text=text,
            content_type=None,
            user=request.user,
            team=form.cleaned_data.get("team") or None,
            comment=form.cleaned_data.get("comment") or "",
            dry_run=dry_run,
        )
    except ScoreValidationError as exc:
        lines, unplaced = annotate(text, exc.problems)
        context.update(source_lines=lines, unplaced=unplaced, problems=exc.problems, source_text=text)
        return render(request, "portal/deploy.html", context, status=400)
    except ProblemError as exc:
        context["errors"] = _problem_error_messages(exc)
        return render(request, "portal/deploy.html", context, status=exc.status_code)
    if dry_run:
        deployment = result.deployment or {}
        context.update(
            plan=result.plan,
            plan_rows=plan_rows(result.plan, deployment),
            deployment=deployment,
            manifest_diff=diff_lines(str(deployment.get("manifest_diff") or "")),
            manifest_names=manifest_names(list(deployment.get("manifests") or [])),
        )
        return render(request, "portal/deploy.html", context)
    application = result.application
    assert application is not None
    if not (result.created and result.revision is not None):
        messages.info(request, f"Nothing changed: {application.name} already runs this spec.")
        return redirect(reverse("portal:application-detail", args=[application.name]))
    recorded = f"Recorded revision {result.revision.number} of {application.name}"
    if result.execution is None:
        messages.success(request, recorded + ".")
        return redirect(reverse("portal:application-detail", args=[application.name]))
    messages.success(request, f"{recorded}; deploying it as {result.execution.pk}.")
    return redirect(reverse("portal:execution-detail", args=[result.execution.pk]))
