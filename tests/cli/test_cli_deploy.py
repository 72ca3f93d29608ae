"""`deploy --wait`, `logs -f` and golden paths through the CLI, against gunicorn + a worker + a fake cluster."""

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import Resolver404, resolve

from innominatus.accounts.models import Team
from tests.cli.conftest import Cli, show
from tests.e2e.conftest import ROOT, wait_until
from tests.fakekube import FakeKube
from workflows.engine.loader import load_workflow
from workflows.models import Application, WorkflowExecution
from workflows.services import executions
from workflows.steps.registry import known_step_types

pytestmark = pytest.mark.e2e

HELLO = ROOT / "tests" / "data" / "score" / "compose-01-hello-score.yaml"


def has_event_stream() -> bool:
    try:
        resolve("/api/events/stream")
    except Resolver404:
        return False
    return True


def test_deploy_wait_shows_each_step_and_exits_0(platform: Callable[..., Cli], make_user: Any) -> None:
    make_user("dev", team="team-a")
    cli = platform()
    cli.login()
    dry = cli.run("deploy", str(HELLO), "--dry-run")
    assert dry.returncode == 0, show(dry)
    assert "Manifest diff" in dry.stdout and "kind: Deployment" in dry.stdout, show(dry)
    assert not Application.objects.exists()

    result = cli.run("deploy", str(HELLO), "--wait")
    assert result.returncode == 0, show(result)
    # Followed through the event stream where the server has one, by polling where it does not.
    assert f"via {'event stream' if has_event_stream() else 'polling'}" in result.stdout, show(result)
    execution = WorkflowExecution.objects.get(workflow_name="deploy-app")
    assert execution.status == "completed"
    for step in execution.steps.all():
        assert f"{step.name} completed" in result.stdout, show(result)
    assert f"{execution.pk} completed" in result.stdout

    # The same deploy again changes nothing; scripts read JSON.
    again = cli.run("deploy", str(HELLO), "-o", "json")
    assert again.returncode == 0, show(again)
    assert json.loads(again.stdout)["created"] is False

    listed = cli.run("apps", "list", "-o", "json")
    assert [app["name"] for app in json.loads(listed.stdout)] == ["hello-world"], show(listed)
    manifests = cli.run("apps", "manifests", "hello-world")
    assert "kind: Deployment" in manifests.stdout, show(manifests)
    runs = cli.run("workflows", "list", "--app", "hello-world")
    assert execution.pk in runs.stdout and "completed" in runs.stdout, show(runs)


def test_a_failing_deploy_exits_1_with_the_steps_error(
    platform: Callable[..., Cli], make_user: Any, fake_kube: FakeKube
) -> None:
    make_user("dev", team="team-a")
    cli = platform()
    cli.login()
    fake_kube.exceed_deadline("hello-world", "team-a-hello-world")
    result = cli.run("deploy", str(HELLO), "--wait")
    assert result.returncode == 1, show(result)
    execution = WorkflowExecution.objects.get(workflow_name="deploy-app")
    failed = execution.steps.get(status="failed")
    assert f"{failed.name} failed" in result.stdout, show(result)
    assert f"{failed.name}: " in result.stderr and "error:" in result.stderr, show(result)
    assert failed.error_message.splitlines()[0][:40] in result.stderr, show(result)
    assert "Traceback" not in result.stderr


def test_logs_follow_prints_lines_of_a_running_step_as_they_come(
    platform: Callable[..., Cli], make_user: Any, tmp_path: Path
) -> None:
    make_user("dev", team="team-a")
    cli = platform()
    cli.login()
    gate = tmp_path / "go"
    definition = load_workflow(
        f"""
metadata: {{name: chatty}}
steps:
  - name: talk
    type: script
    script: |
      echo first-line
      while [ ! -f {gate} ]; do sleep 0.2; done
      echo second-line
""",
        known_step_types=known_step_types(),
    )
    execution = executions.launch_execution(
        definition=definition, app_name="chatty", team=Team.objects.get(name="team-a")
    )
    follower = cli.popen("workflows", "logs", "-f", execution.pk)
    try:
        wait_until(
            lambda: execution.steps.filter(status="running").exists(), timeout=60, what="the step to run"
        )
        time.sleep(2)
        # The follower is still running while the step is: it has not stopped at the first page.
        assert follower.poll() is None
        gate.touch()
        out, err = follower.communicate(timeout=60)
    finally:
        if follower.poll() is None:
            follower.kill()
    assert follower.returncode == 0, out + err
    assert out.index("first-line") < out.index("second-line"), out
    assert "completed" in out


def test_golden_path_with_a_bad_parameter_shows_the_parameters_message(
    platform: Callable[..., Cli], make_user: Any
) -> None:
    make_user("dev", team="team-a")
    cli = platform()
    cli.login()
    result = cli.run(
        "golden-paths", "run", "ephemeral-env", "--param", "app_name=hello", "--param", "ttl=forever"
    )
    assert result.returncode == 3, show(result)
    assert "ttl" in result.stderr and "duration" in result.stderr, show(result)
    assert "Traceback" not in result.stderr
    listed = cli.run("golden-paths", "list")
    assert "ephemeral-env" in listed.stdout, show(listed)
