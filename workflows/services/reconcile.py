"""Reconciling an application's declared resources with the resource instances it holds.

New resources get an instance (state requested, generated values created at once) and a
binding; changed params mark an update; resources no longer declared are deleted (a shared one
is only released while other workloads still use it; a platform-shared one is only ever released).
Shared resources are found by type, class and id among the live instances of the application's
team, or among the platform-shared ones that admin-config.yaml declares for the team.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from workflows.choices import ResourceScope, ResourceState
from workflows.models import Application, ResourceBinding, ResourceInstance
from workflows.providers.policies import PlatformResource
from workflows.providers.registry import ProviderRegistry
from workflows.score import resource_dependencies, topological_order
from workflows.services.resource_values import (
    PLATFORM_INPUTS,
    ensure_generated,
    inputs_digest,
    placement,
    referenced_names,
)
from workflows.services.tenancy import resource_scope

CREATE, UPDATE, DELETE, KEEP = "create", "update", "delete", "keep"
GONE_STATES = (ResourceState.TERMINATED, ResourceState.TERMINATING)


@dataclass
class ResourceChange:
    """What a deploy does to one resource of the application, and which others it waits for."""

    name: str
    action: str
    instance: ResourceInstance
    depends_on: set[str] = field(default_factory=set)
    # A shared resource that already existed and that this application starts to use (or goes on using).
    reused: bool = False
    # Made by this reconcile (in a dry run it exists only inside the rolled-back transaction).
    new: bool = False

    @property
    def shared(self) -> bool:
        return bool(self.instance.resource_id)


def live_bindings(
    *, application: Application | None = None, app_name: str = ""
) -> dict[str, ResourceBinding]:
    """The application's bindings to resources that still exist, by resource name."""
    bindings = ResourceBinding.objects.select_related("resource").exclude(resource__state__in=GONE_STATES)
    if application is not None:
        bindings = bindings.filter(application=application)
    else:
        bindings = bindings.filter(app_name=app_name, application__isnull=True)
    return {binding.resource_name: binding for binding in bindings.order_by("id")}


def _declared_inputs(registry: ProviderRegistry, resource: Mapping[str, Any]) -> frozenset[str]:
    """The platform values (PLATFORM_INPUTS) the resource's create workflow declares as parameters."""
    try:
        route = registry.route(resource["type"], "create", str(resource.get("class") or "default"))
    except LookupError:
        return frozenset()
    return frozenset(spec.name for spec in route.workflow.definition.parameters) & set(PLATFORM_INPUTS)


def _declaration(
    resource: Mapping[str, Any],
    shared: PlatformResource | None = None,
    *,
    inputs: str = "",
) -> dict[str, Any]:
    """Class, params and Score metadata of a resource; a platform-shared one's params are the admin's.
    `inputs` fingerprints the platform values its provider receives (inputs_digest)."""
    return {
        "class": str(resource.get("class") or "default"),
        "params": dict(shared.params) if shared is not None else (resource.get("params") or {}),
        "score": {} if shared is not None else (resource.get("metadata") or {}),
        "inputs": inputs,
    }


def _stored_declaration(instance: ResourceInstance) -> dict[str, Any]:
    return {
        "class": instance.resource_class or "default",
        "params": instance.params or {},
        "score": (instance.metadata or {}).get("score") or {},
        "inputs": (instance.metadata or {}).get("inputs", ""),
    }


def _same_identity(instance: ResourceInstance, resource: Mapping[str, Any], scope: str) -> bool:
    return (
        instance.resource_type == resource["type"]
        and (instance.resource_class or "default") == str(resource.get("class") or "default")
        and instance.resource_id == str(resource.get("id") or "")
        and instance.scope == scope
    )


def _find_shared(
    application: Application, resource: Mapping[str, Any], scope: str
) -> ResourceInstance | None:
    found = ResourceInstance.objects.filter(
        scope=scope,
        resource_type=resource["type"],
        resource_class=str(resource.get("class") or "default"),
        resource_id=str(resource["id"]),
    ).exclude(state__in=GONE_STATES)
    if scope == ResourceScope.TEAM:
        found = found.filter(team_id=application.team_id)
    return found.order_by("id").first()


def _new_instance(
    application: Application,
    name: str,
    resource: Mapping[str, Any],
    registry: ProviderRegistry,
    *,
    scope: str,
    shared: PlatformResource | None,
    inputs: str = "",
) -> ResourceInstance:
    provider = registry.provider_for(resource["type"])
    capability = provider.capability(resource["type"])
    declared = _declaration(resource, shared, inputs=inputs)
    resource_id = str(resource.get("id") or "")
    where = placement(
        application.name,
        name,
        resource["type"],
        declared["class"],
        resource_id,
        scope=scope,
        team=application.team.name,
    )
    # A platform-shared resource belongs to no application or team: no developer's deletion removes it.
    platform = scope == ResourceScope.PLATFORM
    fields = {
        "application": None if platform else application,
        "app_name": "" if platform else application.name,
        "team_id": None if platform else application.team_id,
        "resource_name": name,
        "resource_type": resource["type"],
        "resource_class": declared["class"],
        "resource_id": resource_id,
        "scope": scope,
        "kind": capability.kind,
        "provider": provider.name,
        "params": declared["params"],
        "metadata": {"score": declared["score"], "inputs": inputs, **where},
    }
    if scope == ResourceScope.APPLICATION:
        instance = ResourceInstance.objects.create(**fields)
    else:
        # Two deploys of one team may create the same shared resource at once: the constraint picks one.
        try:
            with transaction.atomic():
                instance = ResourceInstance.objects.create(**fields)
        except IntegrityError:
            existing = _find_shared(application, resource, scope)
            if existing is None:
                raise
            return existing
    # Generated values exist before any workflow runs, so every later run sees the same ones.
    ensure_generated(instance, capability)
    return instance


def _needs_work(instance: ResourceInstance) -> str:
    # A resource left provisioning or updating (its execution died) is picked up again, not skipped.
    if instance.state in (ResourceState.REQUESTED, ResourceState.PROVISIONING):
        return CREATE
    if instance.state in (ResourceState.FAILED, ResourceState.UPDATING):
        return UPDATE if instance.outputs else CREATE
    return KEEP


def reconcile_resources(
    application: Application,
    spec: Mapping[str, Any],
    *,
    registry: ProviderRegistry,
    extensions: Mapping[str, Any] | None = None,
) -> list[ResourceChange]:
    """Bring the application's resource instances in line with `spec` and its `extensions` (inside the
    caller's transaction); returns every declared or removed resource with its action, in dependency order."""
    declared: Mapping[str, Any] = spec.get("resources") or {}
    graph = resource_dependencies(spec)
    bindings = live_bindings(application=application)
    changes: list[ResourceChange] = []
    for name in topological_order(graph):
        resource = declared[name]
        scope, shared = resource_scope(resource, application.team.name)
        # A platform-shared resource is the admin's: no application's extensions change it.
        own = extensions if scope != ResourceScope.PLATFORM else None
        inputs = inputs_digest(_declared_inputs(registry, resource), own)
        binding = bindings.pop(name, None)
        instance = binding.resource if binding is not None else None
        if binding is not None and instance is not None and not _same_identity(instance, resource, scope):
            changes.append(ResourceChange(name, DELETE, instance))
            instance = None
        action, made = KEEP, False
        reused = binding is not None and instance is not None and instance.application_id != application.pk
        if instance is None and scope != ResourceScope.APPLICATION:
            instance = _find_shared(application, resource, scope)
            reused = instance is not None
        if instance is None:
            instance = _new_instance(
                application, name, resource, registry, scope=scope, shared=shared, inputs=inputs
            )
            action, made = CREATE, True
        else:
            action = _needs_work(instance)
            # A team-shared resource changes with its owner's spec; a platform-shared one with admin-config.
            owner = instance.application_id == application.pk or scope == ResourceScope.PLATFORM
            declared_now = _declaration(resource, shared, inputs=inputs)
            if owner and _stored_declaration(instance) != declared_now:
                # A resource that must be (re)created anyway takes the new declaration too.
                instance.params = declared_now["params"]
                instance.metadata = {
                    **(instance.metadata or {}),
                    "score": declared_now["score"],
                    "inputs": inputs,
                }
                instance.save(update_fields=["params", "metadata", "updated_at"])
                action = UPDATE if action == KEEP else action
        if binding is None or binding.resource_id != instance.pk:
            ResourceBinding.objects.get_or_create(
                resource=instance,
                app_name=application.name,
                resource_name=name,
                defaults={"application": application},
            )
        depends_on = set(graph.get(name, ())) & set(declared)
        new = action == CREATE and not reused and instance.state == ResourceState.REQUESTED and made
        changes.append(ResourceChange(name, action, instance, depends_on, reused=reused, new=new))
    for name, binding in bindings.items():
        changes.append(
            ResourceChange(name, DELETE, binding.resource, referenced_names(binding.resource.params))
        )
    return changes


def teardown_changes(*, application: Application | None = None, app_name: str = "") -> list[ResourceChange]:
    """Delete changes for every resource the application still holds."""
    bindings = live_bindings(application=application, app_name=app_name)
    return [
        ResourceChange(
            name, DELETE, binding.resource, referenced_names(binding.resource.params) & set(bindings)
        )
        for name, binding in bindings.items()
    ]


def delete_order(changes: list[ResourceChange]) -> dict[str, set[str]]:
    """For each deleted resource, the deleted resources that must go first: those that refer to it."""
    deleted = {change.name for change in changes if change.action == DELETE}
    waits: dict[str, set[str]] = {name: set() for name in deleted}
    for change in changes:
        if change.action != DELETE:
            continue
        for used in change.depends_on & deleted:
            waits[used].add(change.name)
    return waits
