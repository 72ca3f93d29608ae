"""Reports from outside: a delegated or external resource's owner tells us its state and outputs."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from innominatus.accounts.access import is_platform_admin
from innominatus.accounts.models import Team
from innominatus.problems import Conflict, ProblemError
from workflows.choices import InvalidTransition, ResourceKind, ResourceState
from workflows.models import ResourceInstance
from workflows.providers.model import UnknownResourceType
from workflows.providers.registry import current_registry
from workflows.services.resource_values import hints_for, split_outputs, stored_secrets
from workflows.services.resources import move
from workflows.services.secrets import encrypt_mapping


class ReportRejected(ProblemError):
    """A report that cannot be accepted (wrong kind of resource, bad state or outputs)."""

    default_code = "invalid_report"


def _secret_keys(instance: ResourceInstance) -> frozenset[str]:
    try:
        provider = current_registry().provider_for(instance.resource_type)
    except UnknownResourceType:
        return frozenset()
    return provider.capability(instance.resource_type).secret_outputs


def report_external_state(
    *,
    resource: ResourceInstance,
    state: str,
    user: Any,
    reason: str = "",
    outputs: dict[str, Any] | None = None,
    reference_url: str = "",
) -> ResourceInstance:
    """Record a delegated or external resource's progress; transitions follow the lifecycle table."""
    if resource.kind == ResourceKind.NATIVE:
        raise Conflict(f"resource {resource.pk} is provisioned by innominatus; its state cannot be reported")
    if state not in ResourceState.values:
        raise ReportRejected(
            f"unknown state {state!r}",
            errors=[{"path": "state", "message": "unknown state", "code": "invalid"}],
        )
    if (
        not is_platform_admin(user)
        and not Team.objects.filter(applications=resource.application_id, members=user).exists()
    ):
        raise ReportRejected("this resource belongs to another team", status_code=403)
    actor = getattr(user, "username", "") or "external"
    with transaction.atomic():
        locked = ResourceInstance.objects.select_for_update().get(pk=resource.pk)
        if outputs:
            plain, hidden = split_outputs(outputs, _secret_keys(locked))
            merged = {**(locked.outputs or {}), **plain}
            locked.outputs, locked.hints = merged, hints_for(locked, merged)
            locked.secret_outputs = encrypt_mapping({**stored_secrets(locked), **hidden})
        if reference_url:
            locked.reference_url = reference_url
        locked.save(update_fields=["outputs", "hints", "secret_outputs", "reference_url", "updated_at"])
        if state != locked.state:
            try:
                move(locked, state, reason=reason or f"reported by {actor}", actor=actor)
            except InvalidTransition as exc:
                raise Conflict(str(exc)) from None
    locked.updated_at = timezone.now()
    return locked
