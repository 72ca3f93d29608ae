"""Domain models, one module per aggregate."""

from workflows.models.application import Application, DeploymentRevision
from workflows.models.counts import ExecutionStatusCount
from workflows.models.deployment import ManifestSet, ProviderGeneration, ResourceBinding
from workflows.models.environment import EphemeralEnvironment
from workflows.models.event import Event
from workflows.models.execution import WorkflowExecution, new_execution_id
from workflows.models.namespace import NamespaceClaim
from workflows.models.resource import ResourceInstance, ResourceStateTransition
from workflows.models.step import StepExecution, StepLog

__all__ = [
    "Application",
    "DeploymentRevision",
    "EphemeralEnvironment",
    "Event",
    "ExecutionStatusCount",
    "ManifestSet",
    "NamespaceClaim",
    "ProviderGeneration",
    "ResourceBinding",
    "ResourceInstance",
    "ResourceStateTransition",
    "StepExecution",
    "StepLog",
    "WorkflowExecution",
    "new_execution_id",
]
