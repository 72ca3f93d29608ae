"""The operations guide's `kubectl logs … | grep workflow_id=wf-…`, on a real gunicorn and a real worker: the
web process logs the launch, the worker every step's start, lines and finish, each a JSON object whose text
contains `workflow_id=<id>`."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from innominatus.accounts.services import create_api_key
from tests.e2e.conftest import Processes, wait_until
from workflows.choices import EXECUTION_TERMINAL_STATUSES, ExecutionStatus
from workflows.models import WorkflowExecution

pytestmark = pytest.mark.e2e

SPEC = Path(__file__).resolve().parents[1] / "data" / "score" / "compose-01-hello-score.yaml"


def grep(text: str, pattern: str) -> list[str]:
    """What `grep <pattern>` prints."""
    return [line for line in text.splitlines() if pattern in line]


def test_grep_for_the_workflow_id_returns_its_json_lines(processes: Processes, make_user: Any) -> None:
    developer = make_user("log-dev")
    key = create_api_key(user=developer, name="e2e-logs").raw_key
    url = processes.gunicorn(workers=1)
    processes.worker("worker", workers=1)
    response = requests.post(
        f"{url}/api/specs",
        data=SPEC.read_bytes(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/yaml"},
        timeout=30,
    )
    assert response.status_code in (201, 202), response.text
    workflow_id = re.search(r"wf-[0-9a-f]+", response.text)
    assert workflow_id, response.text
    execution = WorkflowExecution.objects.get(pk=workflow_id.group(0))

    def finished() -> WorkflowExecution | None:
        execution.refresh_from_db()
        return execution if execution.status in EXECUTION_TERMINAL_STATUSES else None

    done = wait_until(finished, timeout=90, what="the deploy to finish")
    assert done.status == ExecutionStatus.COMPLETED, done.error_message
    pattern = f"workflow_id={done.pk}"
    port = url.rsplit(":", 1)[1]
    web = [json.loads(line) for line in grep(processes.log(f"gunicorn-{port}"), pattern)]
    worker = wait_until(
        lambda: (
            [json.loads(line) for line in grep(processes.log("worker"), pattern)]
            if "step deploy completed" in processes.log("worker")
            else None
        ),
        timeout=10,
        what="the worker's last line",
    )
    assert {line["workflow_id"] for line in web + worker} == {done.pk}
    assert "workflow launched" in [line["message"] for line in web]
    messages = [line["message"] for line in worker]
    steps = list(done.steps.order_by("position").values_list("name", flat=True))
    for name in steps:
        assert any(m.startswith(f"step {name} completed") for m in messages), (name, messages)
    assert any(m.startswith("attempt 1 of") and "started" in m for m in messages)
    # The step's own lines, as stored in the database, are in the pod log too.
    stored = list(done.logs.values_list("message", flat=True))
    assert stored and set(stored) <= set(messages)
