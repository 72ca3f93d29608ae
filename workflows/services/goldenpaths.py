"""Use cases on golden paths: launch one, and tear down the temporary environments that expired."""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from innominatus.accounts.access import team_filter, team_for_write
from innominatus.problems import Conflict
from workflows.engine.durations import parse_duration
from workflows.engine.errors import Problem, WorkflowValidationError
from workflows.engine.parameters import validate_parameters
from workflows.goldenpaths.catalog import GoldenPath, get_golden_path, golden_paths
from workflows.models import Application, EphemeralEnvironment, NamespaceClaim, WorkflowExecution
from workflows.services.executions import launch_execution
from workflows.services.namespaces import check_not_reserved, claim_namespace, namespace_name

logger = logging.getLogger(__name__)

MAX_TTL_SECONDS = 7 * 24 * 3600
# Application and environment names end up in names of Kubernetes objects (DNS labels) and in columns.
NAME_PARAMETERS = ("app_name", "application", "environment")
MAX_NAME_LENGTH = 63


def _application_for(parameters: dict[str, Any], user: Any) -> Application | None:
    """The application a run names, if it exists; another team's application is refused like a typo."""
    key = "app_name" if parameters.get("app_name") else "application"
    name = parameters.get(key)
    if not name:
        return None
    found = Application.objects.select_related("team", "current_revision").filter(name=name).first()
    if found is not None and not Application.objects.filter(team_filter(user), pk=found.pk).exists():
        raise WorkflowValidationError(
            [
                Problem(
                    f"parameters.{key}", f"no application named {name!r} that you can access", "not-visible"
                )
            ]
        )
    return found


def _check_name_lengths(values: dict[str, Any]) -> None:
    """Parameters that become stored names are refused beyond the length of a Kubernetes name."""
    problems = [
        Problem(f"parameters.{key}", f"must be at most {MAX_NAME_LENGTH} characters", "too-long")
        for key in NAME_PARAMETERS
        if isinstance(values.get(key), str) and len(values[key]) > MAX_NAME_LENGTH
    ]
    if problems:
        raise WorkflowValidationError(problems)


def launch_golden_path(
    *, name: str, parameters: dict[str, Any], user: Any, team: str | None = None
) -> WorkflowExecution:
    """Validate a golden path's parameters and start it; a TTL parameter registers an ephemeral environment.

    A run for an existing application belongs to that application's team; any other run belongs to
    the team named by `team`, which may be left out only by a member of exactly one team.
    """
    path = get_golden_path(name)
    values = validate_parameters(path.parameters, parameters)
    _check_name_lengths(values)
    application = _application_for(values, user)
    app_name = application.name if application else str(values.get("app_name") or name)
    if application is not None:
        if team and team != application.team.name:
            raise Conflict(
                f"application {application.name!r} belongs to team {application.team.name!r}, not {team!r}",
                errors=[
                    {"path": "team", "message": "a run belongs to its application's team", "code": "conflict"}
                ],
            )
        owner = application.team
    else:
        owner = team_for_write(user, team)
        if values.get("app_name"):
            # A run for a new application may not spell a namespace innominatus never touches.
            check_not_reserved(app_name, "parameters.app_name")
            check_not_reserved(namespace_name(owner.name, app_name), "parameters.app_name")
    with transaction.atomic():
        _bind_environment(path, values, application)
        execution = launch_execution(
            definition=path.workflow,
            app_name=app_name,
            parameters=values,
            user=user,
            application=application,
            team=owner,
            revision=application.current_revision if application else None,
            trigger=f"golden-path:{name}",
        )
        if path.ttl_parameter:
            _register_ephemeral(path, values, execution)
    return execution


def _bind_environment(path: GoldenPath, values: dict[str, Any], application: Application | None) -> None:
    """The `environment` of a TTL path, or of its teardown, is one of an existing application of the
    caller's team: the TTL path claims its namespace (400 reserved, 409 taken), the teardown needs it."""
    teardown = any(other.teardown == path.name for other in golden_paths().values())
    if "environment" not in values or not (path.ttl_parameter or teardown):
        return
    environment = str(values.get("environment") or "")
    key = "app_name" if "app_name" in values else "application"
    if application is None:
        raise WorkflowValidationError(
            [Problem(f"parameters.{key}", "environments belong to an existing application", "not-found")]
        )
    if path.ttl_parameter:
        claim_namespace(application=application, environment=environment, path="parameters.environment")
        return
    if not NamespaceClaim.objects.filter(application=application, environment=environment).exists():
        raise WorkflowValidationError(
            [
                Problem(
                    "parameters.environment",
                    f"application {application.name!r} has no environment {environment!r}",
                    "not-found",
                )
            ]
        )


def _register_ephemeral(path: GoldenPath, values: dict[str, Any], execution: WorkflowExecution) -> None:
    ttl_name = path.ttl_parameter or ""
    ttl = parse_duration(values.get(ttl_name) or 0)
    if ttl <= 0 or ttl > MAX_TTL_SECONDS:
        raise WorkflowValidationError(
            [
                Problem(
                    f"parameters.{ttl_name}",
                    f"must be between 1s and {MAX_TTL_SECONDS // 3600}h",
                    "ttl-range",
                )
            ]
        )
    EphemeralEnvironment.objects.create(
        name=str(values.get("environment") or execution.pk),
        app_name=execution.app_name,
        team=execution.team,
        golden_path=path.name,
        parameters=values,
        created_by_execution=execution,
        expires_at=execution.created_at + timedelta(seconds=ttl),
    )


def expire_ephemeral_environments() -> list[str]:
    """Launch the teardown of every ephemeral environment whose TTL passed; returns their names."""
    expired: list[str] = []
    now = timezone.now()
    for env in EphemeralEnvironment.objects.filter(
        state=EphemeralEnvironment.State.ACTIVE, expires_at__lte=now
    ):
        with transaction.atomic():
            claimed = EphemeralEnvironment.objects.filter(
                pk=env.pk, state=EphemeralEnvironment.State.ACTIVE
            ).update(state=EphemeralEnvironment.State.EXPIRING)
            if not claimed:
                continue
            path = get_golden_path(env.golden_path)
            teardown = get_golden_path(path.teardown) if path.teardown else None
            if teardown is not None:
                names = {spec.name for spec in teardown.parameters}
                execution = launch_execution(
                    definition=teardown.workflow,
                    app_name=env.app_name,
                    parameters={k: v for k, v in env.parameters.items() if k in names},
                    team=env.team,
                    trigger=f"ttl-expired:{env.golden_path}",
                )
                EphemeralEnvironment.objects.filter(pk=env.pk).update(teardown_execution=execution)
            EphemeralEnvironment.objects.filter(pk=env.pk).update(state=EphemeralEnvironment.State.EXPIRED)
        logger.info(
            "ephemeral environment expired", extra={"app_name": env.app_name, "environment": env.name}
        )
        expired.append(env.name)
    return expired
