"""Applications: searchable list; detail with spec, resources, workflows and revisions; revision diff."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from innominatus.problems import ProblemError
from portal.confirm import Confirmation, ask, confirmed
from portal.diffview import side_by_side
from portal.highlight import highlight_lines
from portal.permissions import requires
from portal.queries import decorated, paginate, visible_applications
from portal.status import application_state
from workflows.choices import ExecutionStatus
from workflows.models import Application, DeploymentRevision, ManifestSet, WorkflowExecution
from workflows.services import diff_revisions, progress
from workflows.services.deployments import rollback_application
from workflows.services.diffing import canonical_yaml, revision_document

RECENT_WORKFLOWS = 10
REVISIONS_PER_PAGE = 10


def _latest_execution(field: str) -> Subquery:
    latest = WorkflowExecution.objects.filter(application=OuterRef("pk")).order_by("-created_at", "-id")
    return Subquery(latest.values(field)[:1])


@require_GET
@requires("specs:read")
def application_list(request: HttpRequest) -> HttpResponse:
    """Applications of the user's teams, searchable by name."""
    query = request.GET.get("q", "").strip()
    applications = (
        visible_applications(request.user)
        .select_related("team", "current_revision")
        .annotate(
            resource_count=Count("resources", distinct=True),
            last_status=_latest_execution("status"),
            last_execution=_latest_execution("id"),
            last_applied=Subquery(
                ManifestSet.objects.filter(application=OuterRef("pk"), operation="apply")
                .order_by("-created_at", "-id")
                .values("applied")[:1]
            ),
        )
        .order_by("name")
    )
    if query:
        applications = applications.filter(name__icontains=query)
    return render(
        request, "portal/applications/list.html", {"page": paginate(request, applications), "q": query}
    )


def _visible_application(request: HttpRequest, name: str) -> Application:
    queryset = visible_applications(request.user).select_related("team", "current_revision", "created_by")
    return get_object_or_404(queryset, name=name)


def spec_text(revision: DeploymentRevision) -> str:
    """What to show for a revision: the document as submitted, else its canonical YAML."""
    source = (revision.source or "").replace("\r\n", "\n")
    return source if source.strip() else canonical_yaml(revision_document(revision))


@require_GET
@requires("specs:read")
def application_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One application: its current spec, resources, recent workflows and revision history."""
    application = _visible_application(request, name)
    revision = application.current_revision
    revisions = application.revisions.select_related("created_by").order_by("-number")
    resources = application.resources.order_by("resource_name", "id")
    recent = decorated(WorkflowExecution.objects.filter(application=application)).order_by(
        "-created_at", "-id"
    )
    manifest_set = (
        ManifestSet.objects.filter(application=application, operation="apply")
        .order_by("-created_at", "-id")
        .first()
    )
    recent_list = progress.decorate(recent[:RECENT_WORKFLOWS], revisions=False)
    # A run waiting for a decision is among the most recent ones: no extra query for it.
    waiting = any(execution.status == ExecutionStatus.WAITING for execution in recent_list)
    context = {
        "application": application,
        "state": application_state(application, manifest_set, waiting=waiting),
        "manifest_set": manifest_set,
        "manifests": _manifests(manifest_set),
        "revision": revision,
        "spec_lines": highlight_lines(spec_text(revision)) if revision is not None else [],
        "resources": resources,
        "recent": recent_list,
        "revisions": paginate(request, revisions, per_page=REVISIONS_PER_PAGE),
        "latest_number": revision.number if revision is not None else None,
    }
    return render(request, "portal/applications/detail.html", context)


def _manifests(manifest_set: ManifestSet | None) -> list[tuple[str, list[Any]]]:
    """Each manifest of the last deploy as (`Kind/name`, highlighted YAML lines); Secret values are masked."""
    if manifest_set is None:
        return []
    found = []
    for manifest in manifest_set.manifests or []:
        name = f"{manifest.get('kind', '?')}/{(manifest.get('metadata') or {}).get('name', '?')}"
        found.append((name, highlight_lines(canonical_yaml(manifest))))
    return found


@require_POST
@requires("specs:create")
def application_rollback(request: HttpRequest, name: str) -> HttpResponse:
    """Deploy an earlier revision again as a new revision, and show the deploy."""
    application = _visible_application(request, name)
    raw = request.POST.get("revision", "").strip()
    if not raw.isdigit():
        messages.error(request, "Choose the revision to roll back to.")
        return redirect(reverse("portal:application-detail", args=[application.name]))
    if not confirmed(request):
        return _confirm_rollback(request, application, int(raw))
    try:
        revision, execution = rollback_application(
            application=application, number=int(raw), user=request.user
        )
    except ProblemError as exc:
        messages.error(request, str(exc.detail))
        return redirect(reverse("portal:application-detail", args=[application.name]))
    messages.success(
        request, f"Rolling back to revision {raw} as revision {revision.number} ({execution.pk})."
    )
    return redirect(reverse("portal:execution-detail", args=[execution.pk]))


def _confirm_rollback(request: HttpRequest, application: Application, number: int) -> HttpResponse:
    """The rollback's confirmation: the diff from what runs now to the spec it will deploy."""
    target = application.revisions.filter(number=number).first()
    if target is None:
        messages.error(request, f"{application.name} has no revision {number}.")
        return redirect(reverse("portal:application-detail", args=[application.name]))
    current = application.current_revision
    details: dict[str, Any] = {"target": target, "current": current}
    if current is not None:
        details["rows"] = side_by_side(
            canonical_yaml(revision_document(current)), canonical_yaml(revision_document(target)), context=3
        )
        details["changes"] = diff_revisions(current, target)["changes"]
    return ask(
        request,
        Confirmation(
            title=f"Roll {application.name} back to revision #{number}?",
            consequence=(
                f"Revision #{number}'s spec is recorded as a new revision and deployed now"
                + (f", replacing revision #{current.number}" if current is not None else "")
                + ". These are the changes it applies:"
            ),
            button=f"Roll back and deploy #{number}",
            tone="info",
            back_url=reverse("portal:application-detail", args=[application.name]),
            fields={"revision": str(number)},
            details_template="portal/applications/rollback_diff.html",
            details=details,
        ),
    )


def _revision_number(request: HttpRequest, key: str) -> int | None:
    raw = request.GET.get(key, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise Http404(f"{key} must be a revision number")
    return int(raw)


@require_GET
@requires("specs:read")
def application_diff(request: HttpRequest, name: str) -> HttpResponse:
    """Two revisions side by side (default: the current one against the one before it)."""
    application = _visible_application(request, name)
    revisions = application.revisions.select_related("application", "created_by")
    new_number = _revision_number(request, "to")
    if new_number is None and application.current_revision is not None:
        new_number = application.current_revision.number
    new = get_object_or_404(revisions, number=new_number) if new_number is not None else None
    if new is None:
        raise Http404("this application has no revisions")
    old_number = _revision_number(request, "from")
    old = (
        get_object_or_404(revisions, number=old_number)
        if old_number is not None
        else revisions.filter(number__lt=new.number).order_by("-number").first()
    )
    context: dict[str, Any] = {
        "application": application,
        "old": old,
        "new": new,
        "numbers": list(application.revisions.order_by("-number").values_list("number", flat=True)),
    }
    if old is not None:
        context["rows"] = side_by_side(
            canonical_yaml(revision_document(old)), canonical_yaml(revision_document(new)), context=4
        )
        context["changes"] = diff_revisions(old, new)["changes"]
    return render(request, "portal/applications/diff.html", context)
