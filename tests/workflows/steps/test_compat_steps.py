"""The original innominatus's step types: ansible (real ansible-playbook), gitea-repo and argocd-app
(against strict local stand-ins of their REST APIs), terraform-generate, the simulated types, dummy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from tests.workflows.steps.gitops_standins import ArgoHandler, GiteaHandler, serve
from tests.workflows.steps.helpers import make_ctx, recorder
from workflows.steps.ansible import AnsibleStep
from workflows.steps.gitops import ArgoCDAppStep, GiteaRepoStep
from workflows.steps.legacy import SimulatedStep, TerraformGenerateStep
from workflows.steps.registry import get_step, known_step_types

LOCAL = override_settings(HTTP_STEP_ALLOWLIST=["127.0.0.1"])


def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir(mode=0o777, exist_ok=True)
    path.chmod(0o777)
    return path


def test_the_original_step_types_are_registered() -> None:
    for name in (
        "ansible",
        "gitea-repo",
        "argocd-app",
        "terraform-generate",
        "git-commit-manifests",
        "dummy",
    ):
        assert name in known_step_types()
    assert type(get_step("dummy")).__name__ == "NoopStep"


@pytest.mark.parametrize("step_type", ["validation", "security", "tagging", "cost-analysis", "vault-setup"])
def test_simulated_types_say_they_did_nothing(tmp_path: Path, step_type: str) -> None:
    ctx = make_ctx(tmp_path, {}, step_type=step_type)
    result = SimulatedStep().run(ctx)
    assert result.status == "completed" and result.outputs == {"simulated": True, "done": "nothing"}
    assert "the original innominatus only simulated this step type" in recorder(ctx).text()


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="Debian package ansible not installed")
def test_ansible_runs_a_real_playbook_against_localhost(tmp_path: Path) -> None:
    work = workdir(tmp_path)
    target = work / "out"
    target.mkdir(mode=0o777)
    target.chmod(0o777)
    (work / "site.yml").write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - copy: {dest: '"
        + str(target)
        + "/greeting', content: '{{ greeting }} from {{ db }}', mode: '0644'}\n"
    )
    ctx = make_ctx(
        work, {"playbook": "site.yml", "vars": {"greeting": "hello", "db": "orders"}}, step_type="ansible"
    )
    result = AnsibleStep().run(ctx)
    assert result.status == "completed", result.error + recorder(ctx).text()
    assert (target / "greeting").read_text() == "hello from orders"
    assert "PLAY RECAP" in recorder(ctx).text()


@pytest.mark.skipif(shutil.which("ansible-playbook") is None, reason="Debian package ansible not installed")
def test_a_failing_playbook_fails_the_step_with_its_output(tmp_path: Path) -> None:
    work = workdir(tmp_path)
    content = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - fail: {msg: database unreachable}\n"
    ctx = make_ctx(work, {"content": content}, step_type="ansible")
    result = AnsibleStep().run(ctx)
    assert result.status == "failed"
    assert (
        "ansible-playbook failed with exit code 2" in result.error and "database unreachable" in result.error
    )


def test_ansible_refuses_a_playbook_outside_the_working_directory(tmp_path: Path) -> None:
    result = AnsibleStep().run(
        make_ctx(workdir(tmp_path), {"playbook": "../../etc/passwd"}, step_type="ansible")
    )
    assert result.status == "failed" and "outside the execution's working directory" in result.error
    assert AnsibleStep().validate_config({}) == [
        "config.playbook (a file) or config.content (the playbook) is required"
    ]


def _gitea(base: str, **extra: Any) -> dict[str, Any]:
    return {"gitea_url": base, "org_name": "platform-team", "repo_name": "shop", **extra}


def test_gitea_repo_creates_reads_and_deletes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(GiteaHandler, token="s3cr3t-token", user="admin", password="pw", orgs={"platform-team"}) as (
        base,
        state,
    ):
        monkeypatch.setenv("GITEA_TOKEN", "s3cr3t-token")
        ctx = make_ctx(tmp_path, _gitea(base, description="the shop", private=True), step_type="gitea-repo")
        with LOCAL:
            created = GiteaRepoStep().run(ctx)
            assert created.status == "completed", created.error
            assert created.outputs["clone_url"] == f"{base}/platform-team/shop.git"
            assert created.outputs["status"] == "created"
            assert state["repos"]["platform-team/shop"]["private"] is True
            again = GiteaRepoStep().run(make_ctx(tmp_path, _gitea(base), step_type="gitea-repo"))
            assert again.status == "completed" and again.outputs["status"] == "already existed"
            gone = GiteaRepoStep().run(
                make_ctx(tmp_path, _gitea(base, operation="delete"), step_type="gitea-repo")
            )
            assert gone.status == "completed" and state["repos"] == {}
            missing = GiteaRepoStep().run(
                make_ctx(tmp_path, _gitea(base, operation="delete"), step_type="gitea-repo")
            )
            assert missing.outputs["status"] == "already absent"
            unknown_org = GiteaRepoStep().run(
                make_ctx(tmp_path, _gitea(base, org_name="nope"), step_type="gitea-repo")
            )
        assert unknown_org.status == "failed" and "unexpected status 404" in unknown_org.error
        assert "s3cr3t-token" not in recorder(ctx).text()
        assert all(
            headers.get("Authorization") == "token s3cr3t-token" for _, _, headers in state["requests"]
        )


def test_gitea_repo_behind_the_ssrf_guard_and_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(GiteaHandler, token="t0ken-value", user="u", password="p", orgs={"platform-team"}) as (
        base,
        state,
    ):
        monkeypatch.setenv("GITEA_TOKEN", "t0ken-value")
        refused = GiteaRepoStep().run(make_ctx(tmp_path, _gitea(base), step_type="gitea-repo"))
        assert refused.status == "failed" and state["requests"] == []  # loopback is not on the allow-list
        monkeypatch.delenv("GITEA_TOKEN")
        with LOCAL:
            anonymous = GiteaRepoStep().run(make_ctx(tmp_path, _gitea(base), step_type="gitea-repo"))
        assert anonymous.status == "failed" and "no Gitea credentials" in anonymous.error


def test_argocd_app_logs_in_creates_updates_and_deletes(tmp_path: Path, settings: Any) -> None:
    with serve(ArgoHandler, token="session-token-1", user="admin", password="argo-pass") as (base, state):
        config = tmp_path / "admin-config.yaml"
        config.write_text(json.dumps({"argocd": {"url": base, "username": "admin", "password": "argo-pass"}}))
        settings.ADMIN_CONFIG = str(config)
        app = {
            "appName": "shop",
            "repoURL": "http://gitea/platform-team/shop.git",
            "path": "manifests",
            "namespace": "team-a-shop",
            "syncPolicy": "auto",
            "prune": True,
        }
        ctx = make_ctx(tmp_path, app, step_type="argocd-app")
        with LOCAL:
            created = ArgoCDAppStep().run(ctx)
            assert created.status == "completed", created.error
            assert created.outputs == {
                "app_name": "shop",
                "sync_status": "OutOfSync",
                "health_status": "Missing",
            }
            stored = state["apps"]["shop"]["spec"]
            assert stored["destination"] == {
                "server": "https://kubernetes.default.svc",
                "namespace": "team-a-shop",
            }
            assert stored["syncPolicy"] == {"automated": {"prune": True, "selfHeal": False}}
            updated = ArgoCDAppStep().run(
                make_ctx(
                    tmp_path, {**app, "operation": "update", "targetRevision": "v2"}, step_type="argocd-app"
                )
            )
            assert updated.status == "completed", updated.error
            assert state["apps"]["shop"]["spec"]["source"]["targetRevision"] == "v2"
            deleted = ArgoCDAppStep().run(
                make_ctx(tmp_path, {"app_name": "shop", "operation": "delete"}, step_type="argocd-app")
            )
        assert deleted.status == "completed" and state["deleted"] == [("shop", ["true"])]
        assert "argo-pass" not in recorder(ctx).text() and "session-token-1" not in recorder(ctx).text()
        assert ArgoCDAppStep().validate_config({"app_name": "x"}) == ["config.repo_url is required"]


def test_argocd_app_with_a_wrong_password_fails_clearly(tmp_path: Path, settings: Any) -> None:
    with serve(ArgoHandler, token="t", user="admin", password="right") as (base, _):
        config = tmp_path / "admin-config.yaml"
        config.write_text(json.dumps({"argocd": {"url": base, "username": "admin", "password": "wrong"}}))
        settings.ADMIN_CONFIG = str(config)
        with LOCAL:
            result = ArgoCDAppStep().run(
                make_ctx(tmp_path, {"app_name": "a", "repo_url": "r"}, step_type="argocd-app")
            )
    assert result.status == "failed" and result.error.startswith(
        "Argo CD login failed: unexpected status 401"
    )


def test_terraform_generate_writes_a_module_a_terraform_step_can_use(tmp_path: Path) -> None:
    config = {
        "workspace": "s3",
        "variables": {"bucket_name": "shop-storage"},
        "outputs": {"bucket": "${var.bucket_name}"},
    }
    result = TerraformGenerateStep().run(make_ctx(tmp_path, config, step_type="terraform-generate"))
    assert result.status == "completed", result.error
    module = json.loads((tmp_path / "terraform" / "s3" / "main.tf.json").read_text())
    assert module == {
        "output": {"bucket": {"value": "${var.bucket_name}"}},
        "variable": {"bucket_name": {"default": "shop-storage"}},
    }
    assert TerraformGenerateStep().validate_config({"variables": {"bad name": 1}}) == [
        "config.variables: 'bad name' is not a Terraform name"
    ]
