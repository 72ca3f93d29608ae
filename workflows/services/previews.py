"""What a deploy would do, without doing it: resource actions and a manifest diff against what is deployed."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from django.db.models import Max

from workflows.choices import ResourceState
from workflows.models import Application, ManifestSet
from workflows.providers.model import UnknownResourceType
from workflows.providers.registry import ProviderRegistry, current_registry
from workflows.score import IngestResult
from workflows.score.manifests import RenderError, WorkloadInput, render_workload
from workflows.services import reconcile
from workflows.services.diffing import canonical_yaml
from workflows.services.resource_values import instance_values

READY = frozenset({ResourceState.ACTIVE, ResourceState.UPDATING, ResourceState.DEGRADED})


def _secret_keys(registry: ProviderRegistry, resource_type: str) -> frozenset[str]:
    try:
        return registry.provider_for(resource_type).capability(resource_type).secret_outputs
    except UnknownResourceType:
        return frozenset()


def last_deployed(app_name: str) -> ManifestSet | None:
    """The manifests the application's last successful apply put on the cluster."""
    return (
        ManifestSet.objects.filter(app_name=app_name, operation="apply", applied=True)
        .order_by("-created_at", "-id")
        .first()
    )


def _resources(
    application: Application | None, spec: Mapping[str, Any], registry: ProviderRegistry
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """(planned actions, outputs known today). Reconciling writes: the caller rolls the transaction back."""
    declared: Mapping[str, Any] = spec.get("resources") or {}
    if application is None:
        actions = [
            {"name": name, "type": res["type"], "action": reconcile.CREATE, "state": None}
            for name, res in declared.items()
        ]
        return actions, {}
    outputs: dict[str, dict[str, Any]] = {}
    actions = []
    for change in reconcile.reconcile_resources(application, spec, registry=registry):
        instance = change.instance
        actions.append(
            {
                "name": change.name,
                "type": instance.resource_type,
                "action": change.action,
                "state": instance.state,
                "shared": change.shared,
            }
        )
        if change.action != reconcile.DELETE and instance.state in READY:
            outputs[change.name] = instance_values(instance)
    return actions, outputs


def preview_deploy(
    *, application: Application | None, result: IngestResult, app_name: str, namespace: str
) -> dict[str, Any]:
    """The plan of deploying `result`; runs inside a transaction that the caller rolls back."""
    registry = current_registry()
    spec = result.spec
    actions, outputs = _resources(application, spec, registry)
    for action in actions:
        action["provider"] = registry.owners.get(action["type"], "")
    secret_keys = {item["name"]: _secret_keys(registry, item["type"]) for item in actions}
    highest = application.revisions.aggregate(highest=Max("number"))["highest"] if application else None
    problems: list[str] = []
    try:
        workload = WorkloadInput(
            spec=spec,
            namespace=namespace,
            outputs=outputs,
            secret_keys=secret_keys,
            revision=int(highest or 0) + 1,
            lenient=True,
        )
        rendered = render_workload(workload).masked()
    except RenderError as exc:
        rendered, problems = [], exc.problems
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
        "problems": problems,
    }
