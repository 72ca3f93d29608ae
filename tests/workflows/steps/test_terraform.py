"""Tests for the terraform step with the real terraform CLI (built-in terraform_data only, no downloads)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.workflows.steps.helpers import StopSwitch, make_ctx, pid_alive, recorder, wait_until
from workflows.steps.base import StepStopped
from workflows.steps.terraform import TerraformStep

pytestmark = pytest.mark.skipif(
    shutil.which(os.environ.get("TERRAFORM_BIN") or "terraform") is None,
    reason="the terraform CLI is not installed (set TERRAFORM_BIN or put terraform on PATH)",
)

MAIN_TF = """
variable "name" {
  type = string
}

variable "token" {
  type      = string
  sensitive = true
  default   = "s3cr3t-token"
}

resource "terraform_data" "bucket" {
  input = "bucket-${var.name}"
}

output "bucket" {
  value = terraform_data.bucket.output
}

output "bucket_id" {
  value = terraform_data.bucket.id
}

output "token" {
  value     = var.token
  sensitive = true
}
"""


def tf(tmp_path: Path, config: dict, **kwargs):
    ctx = make_ctx(tmp_path, config, step_type="terraform", **kwargs)
    return ctx, TerraformStep().run(ctx)


def state_resources(state_file: Path) -> list:
    return json.loads(state_file.read_text())["resources"]


def test_apply_returns_outputs_and_flags_sensitive_ones(tmp_path: Path) -> None:
    ctx, result = tf(tmp_path, {"main_tf": MAIN_TF, "variables": {"name": "orders"}}, step_name="provision")
    assert result.status == "completed", result.error
    assert result.outputs["bucket"] == "bucket-orders"
    assert result.outputs["token"] == "s3cr3t-token"
    assert result.outputs["_sensitive"] == ["token"]
    log = recorder(ctx).text()
    assert "$ terraform init -input=false -no-color -reconfigure" in log
    assert "Apply complete! Resources: 1 added" in log
    assert "s3cr3t-token" not in log
    state = tmp_path / "terraform" / "provision" / "terraform.tfstate"
    assert len(state_resources(state)) == 1


def test_later_destroy_step_reuses_workspace_state_and_variables(tmp_path: Path) -> None:
    _, applied = tf(tmp_path, {"main_tf": MAIN_TF, "variables": {"name": "a"}}, step_name="provision")
    assert applied.status == "completed", applied.error
    ctx, destroyed = tf(tmp_path, {"operation": "destroy", "workspace": "provision"}, step_name="teardown")
    assert destroyed.status == "completed", destroyed.error
    assert "Destroy complete! Resources: 1 destroyed" in recorder(ctx).text()
    assert state_resources(tmp_path / "terraform" / "provision" / "terraform.tfstate") == []
    assert destroyed.outputs == {"_sensitive": []}


def test_plan_reports_whether_anything_changes(tmp_path: Path) -> None:
    config = {"main_tf": MAIN_TF, "variables": {"name": "p"}, "workspace": "db"}
    _, planned = tf(tmp_path, {**config, "operation": "plan"})
    assert planned.status == "completed", planned.error
    assert planned.outputs["_changes"] is True
    assert not (tmp_path / "terraform" / "db" / "terraform.tfstate").exists() or not state_resources(
        tmp_path / "terraform" / "db" / "terraform.tfstate"
    )
    assert tf(tmp_path, config)[1].status == "completed"
    _, replanned = tf(tmp_path, {**config, "operation": "plan"})
    assert replanned.outputs["_changes"] is False
    assert replanned.outputs["bucket"] == "bucket-p"


def test_state_dir_keeps_state_across_executions(tmp_path: Path) -> None:
    state_dir = tmp_path / "resources" / "db-1"
    config = {"main_tf": MAIN_TF, "variables": {"name": "x"}, "state_dir": str(state_dir)}
    _, first = tf(tmp_path / "wf-1", config)
    assert first.status == "completed", first.error
    assert (state_dir / "terraform.tfstate").is_file()
    _, second = tf(tmp_path / "wf-2", {**config, "operation": "output"})
    assert second.status == "completed", second.error
    assert second.outputs["bucket_id"] == first.outputs["bucket_id"]
    _, gone = tf(tmp_path / "wf-3", {**config, "operation": "destroy"})
    assert gone.status == "completed", gone.error
    assert state_resources(state_dir / "terraform.tfstate") == []


def test_module_directory_is_copied_with_its_submodules(tmp_path: Path) -> None:
    module = tmp_path / "modules" / "queue"
    (module / "inner").mkdir(parents=True)
    (module / "main.tf").write_text(
        'module "inner" {\n  source = "./inner"\n}\noutput "name" {\n  value = module.inner.name\n}\n'
    )
    (module / "inner" / "main.tf").write_text(
        'resource "terraform_data" "q" {\n  input = "queue"\n}\n'
        'output "name" {\n  value = terraform_data.q.output\n}\n'
    )
    _, result = tf(tmp_path / "wf", {"path": str(module)})
    assert result.status == "completed", result.error
    assert result.outputs["name"] == "queue"


def test_files_mapping_accepts_hcl_and_json(tmp_path: Path) -> None:
    files = {
        "main.tf": 'resource "terraform_data" "a" {\n  input = "one"\n}\n',
        "outputs.tf.json": {"output": {"a": {"value": "${terraform_data.a.output}"}}},
    }
    _, result = tf(tmp_path, {"files": files})
    assert result.status == "completed", result.error
    assert result.outputs["a"] == "one"


def test_invalid_configuration_fails_with_terraform_error(tmp_path: Path) -> None:
    _, result = tf(tmp_path, {"main_tf": 'resource "terraform_data" "a" {\n  nonsense = \n}\n'})
    assert result.status == "failed"
    assert "terraform init failed" in result.error or "terraform apply failed" in result.error


def test_missing_variable_fails_the_step(tmp_path: Path) -> None:
    _, result = tf(tmp_path, {"main_tf": MAIN_TF})
    assert result.status == "failed"
    assert "terraform apply failed" in result.error
    assert "name" in result.error


def test_missing_binary_fails_cleanly(tmp_path: Path) -> None:
    _, result = tf(tmp_path, {"main_tf": MAIN_TF, "binary": "/nonexistent/terraform"})
    assert result.status == "failed"
    assert "terraform binary not found" in result.error


def test_no_configuration_fails(tmp_path: Path) -> None:
    _, result = tf(tmp_path, {"operation": "apply"})
    assert result.status == "failed"
    assert "no terraform configuration" in result.error


def test_cancellation_stops_terraform_and_its_provisioner(tmp_path: Path) -> None:
    marker = tmp_path / "provisioner.pid"
    main_tf = f"""
resource "terraform_data" "slow" {{
  provisioner "local-exec" {{
    command = "echo $$ > {marker}; sleep 120"
  }}
}}
"""
    stop = StopSwitch()
    step = TerraformStep()
    step.grace_period = 5.0
    ctx = make_ctx(tmp_path, {"main_tf": main_tf}, step_type="terraform", stop=stop)
    stop.stop_after(3.0, "cancelled by test")
    started = time.monotonic()
    with pytest.raises(StepStopped, match="cancelled by test"):
        step.run(ctx)
    assert time.monotonic() - started < 15
    assert marker.exists()
    pid = int(marker.read_text())
    assert wait_until(lambda: not pid_alive(pid)), f"provisioner shell {pid} survived"


def test_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", "hunter2")
    main_tf = """
resource "terraform_data" "env" {
  provisioner "local-exec" {
    command = "echo db=$${DB_PASSWORD:-unset} region=$${REGION:-unset} automation=$${TF_IN_AUTOMATION}"
  }
}
"""
    ctx, result = tf(tmp_path, {"main_tf": main_tf, "env": {"REGION": "eu-1"}})
    assert result.status == "completed", result.error
    assert "db=unset region=eu-1 automation=1" in recorder(ctx).text()


def test_validate_config() -> None:
    step = TerraformStep()
    assert step.validate_config({"main_tf": "x", "variables": {"a": 1}}) == []
    assert "config.operation must be one of apply, plan, destroy, output" in step.validate_config(
        {"operation": "import"}
    )
    assert "config.main_tf and config.path are mutually exclusive" in step.validate_config(
        {"main_tf": "x", "path": "/m"}
    )
    problems = step.validate_config({"files": {"../evil.tf": "", "/abs.tf": "", ".terraform/x": ""}})
    assert len(problems) == 3
    assert "config.workspace may only contain letters, digits, '-' and '_'" in step.validate_config(
        {"workspace": "../other"}
    )
