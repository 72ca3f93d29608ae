"""Domain events other apps (metrics, audit) listen to; workflows never imports them."""

from django.dispatch import Signal

# sender=WorkflowExecution class; kwargs: execution (instance), status (str), duration (float | None)
execution_finished = Signal()
# kwargs: execution_id, app_name, workflow_name
execution_started = Signal()
# kwargs: step (StepExecution instance), status (str), duration (float | None)
step_finished = Signal()
# kwargs: resource (ResourceInstance), from_state, to_state, duration (float | None)
resource_transitioned = Signal()
