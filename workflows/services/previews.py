"""What a deploy would do, without doing it: resource actions and a manifest diff against what is deployed."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from django.db.models import Max

from workflows.choices import ResourceScope
from workflows.models import Application, ManifestSet
from workflows.providers.registry import current_registry
from workflows.runtime.validation import check_manifest
from workflows.score import IngestResult, ScoreValidationError
from workflows.score.errors import ScoreProblem, sort_problems
from workflows.score.manifests import RenderError, WorkloadInput, render_workload
from workflows.services import reconcile
from workflows.services.diffing import canonical_yaml
from workflows.services.forecast import PENDING_MARK, forecast

REUSE, RELEASE = "reuse", "release"


def last_deployed(app_name: str) -> ManifestSet | None:
    """The manifests the application's last successful apply put on the cluster."""
    return (
        ManifestSet.objects.filter(app_name=app_name, operation="apply", applied=True)
        .order_by("-created_at", "-id")
        .first()
    )


def plan_action(change: reconcile.ResourceChange, app_name: str) -> str:
    """What the deploy does to one resource, in the plan's words: create, reuse (a shared resource that
    exists already), update, keep, delete, or release (a shared resource others still use)."""
    if change.action == reconcile.DELETE:
        instance = change.instance
        others = instance.bindings.exclude(app_name=app_name).exists()
        return RELEASE if others or instance.scope == ResourceScope.PLATFORM else reconcile.DELETE
    if change.reused and change.action == reconcile.KEEP:
        return REUSE
    return change.action


def _resource_rows(changes: list[reconcile.ResourceChange], app_name: str) -> list[dict[str, Any]]:
    return [
        {
            "name": change.name,
            "type": change.instance.resource_type,
            "action": plan_action(change, app_name),
            # A resource this plan would make does not exist yet: it has no state to show.
            "state": None if change.new else change.instance.state,
            "shared": change.shared,
            "reused": change.reused,
            "applied": change.instance.applied,
        }
        for change in changes
    ]


def _manifest_problems(manifests: list[dict[str, Any]], lines: Mapping[str, int]) -> list[ScoreProblem]:
    """What the deploy's schema check would refuse (values still pending are the deploy's to check)."""
    problems = []
    for manifest in manifests:
        for error in check_manifest(manifest).errors:
            if PENDING_MARK not in error:
                problems.append(
                    ScoreProblem.at(("containers",), code="manifest-invalid", message=error, lines=lines)
                )
    return problems


def _render_problems(exc: RenderError, lines: Mapping[str, int]) -> list[ScoreProblem]:
    found = []
    for text in exc.problems:
        head, _, message = text.partition(": ")
        location = tuple(head.split(".", 3)) if message else ()
        found.append(ScoreProblem.at(location, code="render-failed", message=message or text, lines=lines))
    return found


def preview_deploy(
    *, application: Application, result: IngestResult, app_name: str, namespace: str
) -> dict[str, Any]:
    """The plan of deploying `result`: inside a transaction that the caller rolls back, it reconciles
    resources as the deploy will, forecasts their outputs and renders the workload strictly; raises
    ScoreValidationError (each problem with its path) for anything the deploy would refuse."""
    registry = current_registry()
    spec = result.spec
    changes = reconcile.reconcile_resources(
        application, spec, registry=registry, extensions=result.extensions
    )
    actions = _resource_rows(changes, app_name)
    for action in actions:
        action["provider"] = registry.owners.get(action["type"], "")
    expected = forecast(application, changes, result, registry)
    problems = list(expected.problems)
    highest = application.revisions.aggregate(highest=Max("number"))["highest"]
    rendered: list[dict[str, Any]] = []
    if not problems:
        try:
            workload = render_workload(
                WorkloadInput(
                    spec=spec,
                    namespace=namespace,
                    outputs=expected.outputs,
                    secret_keys=expected.secret_keys,
                    revision=int(highest or 0) + 1,
                    open_resources=frozenset(expected.open),
                )
            )
            problems += _manifest_problems(workload.manifests, result.lines)
            rendered = workload.masked()
        except RenderError as exc:
            problems += _render_problems(exc, result.lines)
    if problems:
        raise ScoreValidationError(sort_problems(problems))
    deployed = last_deployed(app_name)
    before = canonical_yaml(deployed.manifests) if deployed is not None else ""
    after = canonical_yaml(rendered) if rendered else ""
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"deployed (revision {deployed.revision_number})" if deployed else "deployed (nothing)",
            tofile="planned",
        )
    )
    return {
        "namespace": namespace,
        "resources": actions,
        "manifests": rendered,
        "manifest_diff": diff,
        "deployed_revision": deployed.revision_number if deployed is not None else None,
        # Kept for clients of the earlier answer: problems are now refused with 400 instead.
        "problems": [],
        "pending": sorted(expected.open),
    }
