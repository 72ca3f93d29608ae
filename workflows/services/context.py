"""The template and condition context of an execution, read from the database."""

from collections.abc import Iterator, Mapping
from typing import Any

from workflows.models import StepExecution, WorkflowExecution
from workflows.services.namespaces import NamespacesView
from workflows.services.reconcile import live_bindings


def context_steps(execution: WorkflowExecution) -> list[StepExecution]:
    """An execution's steps as scheduling and templates need them (the large rendered config is left out)."""
    return list(execution.steps.defer("config"))


def reread_steps(
    execution: WorkflowExecution, known: list[StepExecution], heads: list[tuple[int, str, int, bool]]
) -> list[StepExecution]:
    """`context_steps` again, reading in full only the steps whose head moved since `known` was read:
    a worker running a chain re-reads the steps' heads (id, status, attempt, decided) per step instead of
    every step's outputs.

    While its execution's row is not locked, a step's status (and with it its outputs and error) is
    moved by claims, the reaper, cancellation and approvals, its attempt by claims, its decision by a
    person. A dispatch time read earlier may be stale: at worst a step is offered to two workers, and
    the conditional claim lets one take it.
    """
    by_pk = {step.pk: step for step in known}
    stale = [
        pk
        for pk, status, attempt, decided in heads
        if pk not in by_pk
        or (by_pk[pk].status, by_pk[pk].attempt, by_pk[pk].decided_at is not None)
        != (status, attempt, decided)
    ]
    if not stale and len(heads) == len(known):
        return known
    fresh = {step.pk: step for step in execution.steps.defer("config").filter(pk__in=stale)}
    return [fresh.get(pk) or by_pk[pk] for pk, *_ in heads]


def step_view(step: StepExecution) -> dict[str, Any]:
    """What templates and conditions see of one step."""
    outputs = step.outputs or {}
    return {
        "status": step.status,
        "outputs": outputs,
        "output": outputs,  # the original's files write `.steps.<name>.output.<key>`
        "error": step.error_message,
        "attempt": step.attempt,
    }


def app_view(execution: WorkflowExecution) -> dict[str, Any]:
    """What templates see of the application an execution belongs to."""
    # `app.namespaces[<environment>]` ("" for the main one): what golden paths name namespaces by,
    # never a parameter the caller could point at another team's namespace.
    view: dict[str, Any] = {
        "name": execution.app_name,
        "namespaces": NamespacesView(execution.app_name, execution.team_id),
    }
    revision = execution.revision
    if revision is not None:
        view["revision"] = revision.number
        view["spec"] = revision.spec
        view["environment"] = (revision.extensions or {}).get("environment") or {}
    return view


def resources_view(execution: WorkflowExecution) -> dict[str, Any]:
    """Non-secret outputs of the resources the application holds (shared ones included), by its names."""
    if execution.application_id is None:
        return {}
    found: dict[str, Any] = {}
    for name, binding in live_bindings(application=execution.application).items():
        resource = binding.resource
        found[name] = {
            "type": resource.resource_type,
            "state": resource.state,
            "outputs": resource.outputs or {},
            **(resource.outputs or {}),
        }
    return found


class LazyResources(Mapping[str, Any]):
    """`resources_view`, read on first use: most steps' templates never look at resources."""

    def __init__(self, execution: WorkflowExecution) -> None:
        self._execution = execution
        self._view: dict[str, Any] | None = None

    def _loaded(self) -> dict[str, Any]:
        if self._view is None:
            self._view = resources_view(self._execution)
        return self._view

    def __getitem__(self, key: str) -> Any:
        return self._loaded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())


def execution_context(
    execution: WorkflowExecution, steps: list[StepExecution], *, resources: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The namespaces a workflow's templates and conditions may use (`resources` when already read)."""
    return {
        "parameters": execution.parameters or {},
        "variables": execution.variables or {},
        "steps": {step.name: step_view(step) for step in steps},
        "resources": LazyResources(execution) if resources is None else resources,
        "app": app_view(execution),
        "execution": {
            "id": execution.id,
            "workflow": execution.workflow_name,
            "app_name": execution.app_name,
            "trigger": execution.trigger,
        },
    }
