"""A worker process handing its steps back records no result: the outcome may be the hand-back's own kill."""

from collections.abc import Iterator

import pytest

from workflows import shutdown
from workflows.choices import StepStatus
from workflows.engine.loader import load_workflow
from workflows.models import StepExecution
from workflows.services import executions
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.django_db(transaction=True)

WORKFLOW = """
metadata: {name: handed}
steps:
  - name: work
    type: script
    script: exit 1
"""


@pytest.fixture
def handing_back() -> Iterator[None]:
    shutdown.begin_hand_back()
    shutdown.end_hand_back()  # stored already: the runner does not wait
    try:
        yield
    finally:
        shutdown._State.handing_back = False
        shutdown._State.handed_back.clear()


@pytest.mark.usefixtures("handing_back")
def test_a_step_that_ends_while_its_process_hands_back_is_left_running_for_the_hand_back() -> None:
    definition = load_workflow(WORKFLOW, known_step_types=known_step_types())
    execution = executions.launch_execution(definition=definition, app_name="demo", parameters={})
    step = StepExecution.objects.get(execution_id=execution.pk, name="work")
    # Not recorded as failed: the hand-back (or, if the process dies first, the reaper) decides.
    assert step.status == StepStatus.RUNNING
    assert step.error_message == ""


def test_without_a_hand_back_the_same_failure_is_recorded() -> None:
    definition = load_workflow(WORKFLOW, known_step_types=known_step_types())
    execution = executions.launch_execution(definition=definition, app_name="demo", parameters={})
    assert StepExecution.objects.get(execution_id=execution.pk, name="work").status == StepStatus.FAILED
