"""Namespaces of applications and their environments: how they are named, which names are reserved,
the database claim that keeps each one to a single owner, and the owner a step acts for."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from innominatus.problems import Conflict, ProblemError
from workflows.models import Application, NamespaceClaim, WorkflowExecution
from workflows.providers.config import platform_config
from workflows.runtime.ownership import Owner
from workflows.score.naming import k8s_name
from workflows.services.resource_values import team_shared_namespace

# Kubernetes' own namespaces: never an application's.
BUILTIN_RESERVED = ("default", "kube-*")


class NamespaceReserved(ProblemError):
    """A computed or requested namespace is one innominatus never creates or changes."""

    default_code = "namespace_reserved"


class NamespaceTaken(Conflict):
    """Another application or environment already owns the computed namespace."""

    default_code = "namespace_taken"


def namespace_name(team: str, app_name: str, environment: str = "") -> str:
    """The namespace of an application (or one of its environments): <prefix><team>-<app>[-<env>]."""
    return k8s_name(platform_config().namespace_prefix + team, app_name, environment)


def reserved_patterns() -> list[str]:
    """Names and `prefix*` patterns no application may use: Kubernetes', innominatus' own, configured."""
    config = platform_config()
    shared = config.shared_namespace
    # Teams' shared namespaces are <shared>-<team>: no application may take one.
    patterns = [*BUILTIN_RESERVED, settings.RELEASE_NAMESPACE, shared, f"{shared}-*" if shared else ""]
    patterns += [*settings.RESERVED_NAMESPACES, *config.reserved_namespaces]
    return [pattern for pattern in patterns if pattern]


def reserved_reason(name: str) -> str:
    """Why `name` may not be an application's namespace; '' when it may."""
    for pattern in reserved_patterns():
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return f"namespace {name!r} is reserved (names starting with {pattern[:-1]!r})"
        if name == pattern:
            return f"namespace {name!r} is reserved"
    return ""


def check_not_reserved(name: str, path: str) -> None:
    """Raise NamespaceReserved (400 with `path`) when `name` is reserved."""
    reason = reserved_reason(name)
    if reason:
        raise NamespaceReserved(reason, errors=[{"path": path, "message": reason, "code": "reserved"}])


def claim_namespace(*, application: Application, environment: str = "", path: str) -> NamespaceClaim:
    """The application's (environment's) namespace claim, created on first use; 400 when reserved,
    409 when another application or environment holds the name (the unique constraint decides)."""
    found = NamespaceClaim.objects.filter(application=application, environment=environment).first()
    if found is not None:
        return found
    name = namespace_name(application.team.name, application.name, environment)
    check_not_reserved(name, path)
    try:
        with transaction.atomic():
            return NamespaceClaim.objects.create(
                name=name,
                application=application,
                app_name=application.name,
                team=application.team,
                environment=environment,
            )
    except IntegrityError:
        holder = NamespaceClaim.objects.filter(name=name).first()
        message = f"namespace {name!r} is already used by another application or environment"
        if holder is not None and holder.application_id == application.pk:
            message = f"namespace {name!r} is already used by environment {holder.environment!r}"
        raise NamespaceTaken(message, errors=[{"path": path, "message": message, "code": "taken"}]) from None


def claimed_namespace(app_name: str, environment: str = "") -> str | None:
    """The namespace claimed for an application (environment), or None."""
    return (
        NamespaceClaim.objects.filter(app_name=app_name, environment=environment)
        .values_list("name", flat=True)
        .first()
    )


class NamespacesView(Mapping[str, str]):
    """`app.namespaces` in templates: environment name ("" for the main one) -> claimed namespace,
    read on first use."""

    def __init__(self, app_name: str, team_id: int | None) -> None:
        self._app_name, self._team_id = app_name, team_id
        self._found: dict[str, str] | None = None

    def _loaded(self) -> dict[str, str]:
        if self._found is None:
            # An execution without a team owns no namespace.
            rows = NamespaceClaim.objects.filter(app_name=self._app_name)
            found = rows.filter(team_id=self._team_id) if self._team_id is not None else rows.none()
            self._found = dict(found.values_list("environment", "name"))
        return self._found

    def __getitem__(self, key: str) -> str:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def execution_owner(execution: WorkflowExecution) -> Owner:
    """Whose cluster objects an execution's steps may create and change (its team and application)."""
    team: Any = execution.team
    return Owner(
        team=team.name if team is not None else "",
        application=execution.app_name,
        platform_namespaces=frozenset({platform_config().shared_namespace}),
        team_namespaces=frozenset({team_shared_namespace(team.name)}) if team is not None else frozenset(),
    )


def team_scope(team: str) -> str:
    """The prefix every namespace of a team's applications starts with."""
    return namespace_name(team, "x")[:-1]


def check_resource_namespaces(spec: Mapping[str, Any], team: str) -> None:
    """`type: namespace` resources may name only a namespace in the team's scope that is not reserved."""
    errors: list[dict[str, str]] = []
    scope = team_scope(team)
    for resource_name, declared in sorted((spec.get("resources") or {}).items()):
        if not isinstance(declared, Mapping) or declared.get("type") != "namespace":
            continue
        name = (declared.get("params") or {}).get("name")
        if not isinstance(name, str) or not name or "${" in name:
            continue
        path = f"resources.{resource_name}.params.name"
        reason = reserved_reason(name)
        if not reason and not name.startswith(scope):
            reason = f"namespace {name!r} is outside team {team}'s namespaces (names starting with {scope!r})"
        if reason:
            errors.append({"path": path, "message": reason, "code": "namespace_not_allowed"})
    if errors:
        raise NamespaceReserved(errors[0]["message"], errors=errors)
