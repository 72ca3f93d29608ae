"""The template and condition context of an execution, read from the database."""

from typing import Any

from workflows.models import StepExecution, WorkflowExecution


def context_steps(execution: WorkflowExecution) -> list[StepExecution]:
    """An execution's steps as scheduling and templates need them (the large rendered config is left out)."""
    return list(execution.steps.defer("config"))


def step_view(step: StepExecution) -> dict[str, Any]:
    """What templates and conditions see of one step."""
    return {
        "status": step.status,
        "outputs": step.outputs or {},
        "error": step.error_message,
        "attempt": step.attempt,
    }


def app_view(execution: WorkflowExecution) -> dict[str, Any]:
    """What templates see of the application an execution belongs to."""
    view: dict[str, Any] = {"name": execution.app_name}
    revision = execution.revision
    if revision is not None:
        view["revision"] = revision.number
        view["spec"] = revision.spec
        view["environment"] = (revision.extensions or {}).get("environment") or {}
    return view


def resources_view(execution: WorkflowExecution) -> dict[str, Any]:
    """Non-secret outputs of the application's resources, by resource name."""
    if execution.application_id is None:
        return {}
    found: dict[str, Any] = {}
    for resource in execution.application.resources.all():  # type: ignore[union-attr]
        found[resource.resource_name] = {
            "type": resource.resource_type,
            "state": resource.state,
            "outputs": resource.outputs or {},
            **(resource.outputs or {}),
        }
    return found


def execution_context(
    execution: WorkflowExecution, steps: list[StepExecution], *, resources: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The namespaces a workflow's templates and conditions may use (`resources` when already read)."""
    return {
        "parameters": execution.parameters or {},
        "variables": execution.variables or {},
        "steps": {step.name: step_view(step) for step in steps},
        "resources": resources_view(execution) if resources is None else resources,
        "app": app_view(execution),
        "execution": {
            "id": execution.id,
            "workflow": execution.workflow_name,
            "app_name": execution.app_name,
            "trigger": execution.trigger,
        },
    }
