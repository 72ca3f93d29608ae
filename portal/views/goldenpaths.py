"""Golden paths: the catalogue, and a form per path generated from its parameter schema that launches it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from innominatus.accounts.access import writable_team_names
from innominatus.problems import ProblemError
from portal import paramtext
from portal.forms import GoldenPathForm
from portal.permissions import may, requires
from portal.queries import visible_applications
from workflows.engine.errors import WorkflowValidationError
from workflows.goldenpaths.catalog import GoldenPath, golden_paths
from workflows.models import Application
from workflows.services.goldenpaths import launch_golden_path

APP_PARAMETERS = ("app_name", "application")


@require_GET
@requires("goldenpaths:read")
def goldenpath_list(request: HttpRequest) -> HttpResponse:
    """Every golden path with its description, category, tags and estimated duration."""
    paths = sorted(golden_paths().values(), key=lambda p: (p.category, p.name))
    return render(request, "portal/goldenpaths/list.html", {"paths": paths})


def _path(name: str) -> GoldenPath:
    path = golden_paths().get(name)
    if path is None:
        raise Http404(f"no golden path named {name!r}")
    return path


def _applications(request: HttpRequest) -> list[str]:
    return list(visible_applications(request.user).order_by("name").values_list("name", flat=True)[:500])


def _hidden_application(request: HttpRequest, form: GoldenPathForm) -> str | None:
    """The app parameter naming another team's application, so that it is refused like a missing one."""
    for key in APP_PARAMETERS:
        value = form.cleaned_data.get(key)
        if not value:
            continue
        exists = Application.objects.filter(name=value).exists()
        if exists and not visible_applications(request.user).filter(name=value).exists():
            return key
    return None


def _field_errors(form: GoldenPathForm, exc: WorkflowValidationError) -> None:
    for problem in exc.problems:
        name = problem.path.removeprefix("parameters.")
        # Next to its field the message need not repeat which parameter it is about.
        message = problem.message.removeprefix(f"parameter '{name}': ")
        spec = form.specs.get(name)
        message = paramtext.humane_error(message, spec.pattern if spec is not None else None)
        message += f" — {problem.suggestion}" if problem.suggestion else ""
        form.add_error(name if name in form.fields else None, message)


@require_http_methods(["GET", "POST"])
@requires("goldenpaths:read")
def goldenpath_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The path's form; a valid submission launches it and shows the new execution."""
    path = _path(name)
    may_run = may(request.user, "goldenpaths:execute")
    teams = writable_team_names(request.user)
    if request.method != "POST":
        form = GoldenPathForm(parameters=path.parameters, teams=teams, applications=_applications(request))
        return render(
            request, "portal/goldenpaths/detail.html", {"path": path, "form": form, "may_run": may_run}
        )
    if not may_run:
        return render(
            request,
            "portal/goldenpaths/detail.html",
            {"path": path, "form": None, "may_run": False},
            status=403,
        )
    form = GoldenPathForm(
        request.POST, parameters=path.parameters, teams=teams, applications=_applications(request)
    )
    status = 400
    if form.is_valid():
        hidden = _hidden_application(request, form)
        if hidden is not None:
            form.add_error(hidden, f"application {form.cleaned_data[hidden]!r} does not exist")
        else:
            try:
                execution = launch_golden_path(
                    name=path.name, parameters=form.parameter_values(), user=request.user, team=form.team()
                )
            except WorkflowValidationError as exc:
                _field_errors(form, exc)
            except ProblemError as exc:
                status = exc.status_code
                form.add_error("team" if "team" in form.fields else None, str(exc.detail))
            else:
                messages.success(request, f"Started {path.name} as {execution.pk}.")
                return redirect(reverse("portal:execution-detail", args=[execution.pk]))
    context = {"path": path, "form": form, "may_run": may_run}
    return render(request, "portal/goldenpaths/detail.html", context, status=status)
