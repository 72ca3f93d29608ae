"""The original innominatus's shapes through the API: warnings in the answer, the Score `workflows:`
section run in the deploy, and `manage.py providers validate`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.workflows.providers.helpers import write_provider
from workflows.choices import ExecutionStatus
from workflows.models import WorkflowExecution
from workflows.providers.registry import forget_registry

LEGACY = """\
apiVersion: score.dev/v1b1
metadata: {name: legacy-shop}
containers:
  main:
    image: nginx:1.27
    env: {GREETING: hello}
    ports: [{name: http, port: 80}]
"""

WITH_WORKFLOW = """\
apiVersion: score.dev/v1b1
metadata: {name: flow-shop}
containers: {main: {image: nginx:1.27}}
workflows:
  after-deploy:
    variables: {greeting: hi}
    steps:
      - name: announce
        type: noop
        config: {outputs: {said: "{{ variables.greeting }} {{ app.name }}"}}
      - {name: check, type: validation}
"""


@pytest.mark.django_db(transaction=True)
def test_the_answer_lists_what_was_translated(submit: Callable[..., Any]) -> None:
    dry = submit(LEGACY, dry_run="true")
    assert dry.status_code == 200, dry.json()
    codes = [w["code"] for w in dry.json()["plan"]["warnings"]]
    assert codes == ["converted-env", "converted-ports"]
    created = submit(LEGACY)
    assert created.status_code == 201
    assert created.json()["plan"]["warnings"][0]["pointer"] == "/containers/main/env"
    revision = created.json()["revision"]
    assert revision is not None


@pytest.mark.django_db(transaction=True)
def test_the_score_workflows_section_runs_after_the_deploy(submit: Callable[..., Any]) -> None:
    answer = submit(WITH_WORKFLOW)
    assert answer.status_code == 201, answer.json()
    execution = WorkflowExecution.objects.get(pk=answer.json()["execution"])
    assert execution.status == ExecutionStatus.COMPLETED, execution.error_message
    steps = {step.name: step for step in execution.steps.all()}
    assert list(steps) == ["deploy", "announce", "check"]
    assert steps["announce"].outputs == {"said": "hi flow-shop"}
    assert steps["check"].outputs == {"simulated": True, "done": "nothing"}


@pytest.mark.django_db
def test_a_score_workflow_that_cannot_run_is_refused(submit: Callable[..., Any]) -> None:
    nested = submit(WITH_WORKFLOW.replace("type: validation", "type: workflow"))
    assert nested.status_code == 400
    [error] = nested.json()["errors"]
    assert error["pointer"] == "/workflows/after-deploy"
    assert "never supported by the original innominatus either" in error["message"]
    reserved = submit(WITH_WORKFLOW.replace("name: check", "name: deploy"))
    assert reserved.status_code == 400
    assert "step name 'deploy' is reserved" in reserved.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_providers_validate_is_strict(tmp_path: Path, settings: Any) -> None:
    write_provider(tmp_path, "good-team", ["widget"])
    broken = "metadata: {name: x}\nsteps:\n  - {name: a, type: kubernetes, config: {manifest: 'a: [b'}}\n"
    write_provider(tmp_path, "bad-team", ["gadget"], workflow_text=broken)
    config = tmp_path / "admin-config.yaml"
    config.write_text(yaml.safe_dump({"providers": [str(tmp_path / "good-team")]}))
    settings.ADMIN_CONFIG = str(config)
    forget_registry()
    call_command("providers", "validate")
    config.write_text(
        yaml.safe_dump({"providers": [str(tmp_path / "good-team"), str(tmp_path / "bad-team")]})
    )
    with pytest.raises(
        CommandError, match=r"provider 'bad-team'.*config.manifests: manifests are not valid YAML"
    ):
        call_command("providers", "validate")


@pytest.mark.django_db(transaction=True)
def test_git_commit_manifests_commits_the_rendered_workload(
    submit: Callable[..., Any], tmp_path: Path
) -> None:
    import os
    import subprocess

    bare = tmp_path / "manifests.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True)
    tmp_path.chmod(0o777)
    if os.geteuid() == 0:  # step processes run as nobody: git trusts only a repository they own
        import pwd

        nobody = pwd.getpwnam("nobody")
        for root, dirs, files in os.walk(bare):
            for name in [root, *(os.path.join(root, n) for n in [*dirs, *files])]:
                os.chown(name, nobody.pw_uid, nobody.pw_gid)
    spec = WITH_WORKFLOW.replace(
        "      - {name: check, type: validation}\n",
        f"      - {{name: commit, type: git-commit-manifests, config: {{repository: '{bare}', manifestPath: deploy}}}}\n",
    )
    answer = submit(spec)
    assert answer.status_code == 201, answer.json()
    execution = WorkflowExecution.objects.get(pk=answer.json()["execution"])
    assert execution.status == ExecutionStatus.COMPLETED, execution.error_message
    listed = subprocess.run(
        ["git", "-c", "safe.directory=*", "-C", str(bare), "ls-tree", "-r", "--name-only", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "deploy/deployment-flow-shop.yaml" in listed
    assert not [name for name in listed if name.startswith("deploy/secret-")]
