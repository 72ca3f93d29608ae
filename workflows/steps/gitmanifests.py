"""The original's `git-commit-manifests` step: commit the application's rendered manifests to Git.

It renders the application's workload exactly as the `deploy` step does and commits the objects
with the `git` step's machinery (path confinement, token only through GIT_ASKPASS, scrubbed
environment, commit only when something changed, push retried after a rebase).

Configuration: `repository` (a URL or path), or `repoName` / `repo_name` with the Gitea of
admin-config.yaml (`<gitea.url>/<org>/<repo>.git`, org from `org_name`/`owner` or
`gitea.orgName`); `manifestPath` / `manifest_path` (default `manifests`); `branch`, `message`,
`author_name`, `author_email` as for `git`; the token is admin-config `gitea.token` or
`GITEA_TOKEN`. Secrets are never committed: Secret objects are left out (and logged as such);
keep them in the cluster (e.g. a sealed-secrets or external-secrets controller).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from workflows.score.manifests import RenderError, WorkloadInput, render_workload
from workflows.steps.base import Step, StepContext, StepResult
from workflows.steps.git import GitStep
from workflows.steps.gitops import _first, _integration


def _file_name(manifest: Mapping[str, Any]) -> str:
    kind = str(manifest.get("kind") or "object").lower()
    name = str((manifest.get("metadata") or {}).get("name") or "unnamed")
    return f"{kind}-{name}.yaml"


class GitCommitManifestsStep(Step):
    """Renders the application's workload and commits it (without Secrets) to a repository."""

    type_name = "git-commit-manifests"
    uses_resources = True

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        if not _first(config, "repository", "repoName", "repo_name"):
            return ["config.repository (or repoName with admin-config gitea.url) is required"]
        path = str(_first(config, "manifestPath", "manifest_path", default="manifests"))
        if PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts:
            return ["config.manifestPath must be a relative path inside the repository"]
        return []

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        ops = ctx.resource_ops
        if ops is None:
            return StepResult.fail("git-commit-manifests steps run only inside innominatus executions")
        config, gitea = ctx.config, _integration("gitea")
        repository = config.get("repository")
        if not repository:
            base = gitea.get("internalURL") or gitea.get("url")
            org = _first(config, "org_name", "owner", default=gitea.get("orgName"))
            if not base or not org:
                return StepResult.fail(
                    "repoName needs admin-config gitea.url and an org (org_name or gitea.orgName)"
                )
            repository = f"{base.rstrip('/')}/{org}/{_first(config, 'repoName', 'repo_name')}.git"
        try:
            job = ops.workload(ctx, revision=None)
            rendered = render_workload(
                WorkloadInput(
                    spec=job.spec,
                    namespace=job.namespace,
                    outputs=job.outputs,
                    secret_keys=job.secret_keys,
                    revision=job.revision,
                )
            )
        except (LookupError, ValueError, RenderError) as exc:
            return StepResult.fail(f"the workload cannot be rendered: {exc}")
        folder = str(_first(config, "manifestPath", "manifest_path", default="manifests")).strip("/")
        files = {f"{folder}/{_file_name(m)}": m for m in rendered.manifests if m.get("kind") != "Secret"}
        left_out = len(rendered.manifests) - len(files)
        if left_out:
            ctx.log(f"{left_out} Secret object(s) not committed: secrets never go to Git", "system")
        git_config: dict[str, Any] = {
            "repository": str(repository),
            "files": files,
            "message": str(config.get("message") or f"innominatus: manifests of {job.app_name}"),
        }
        for key in ("branch", "base_branch", "author_name", "author_email"):
            if config.get(key):
                git_config[key] = config[key]
        token = os.environ.get("GITEA_TOKEN") or gitea.get("token") or ""
        if token:
            git_config["token"] = token
            git_config["username"] = gitea.get("username") or "innominatus"
        result = GitStep().run(
            replace(ctx, config=git_config, step_type="git", secrets=[*ctx.secrets, token])
        )
        if result.status == "completed":
            result.outputs["files"] = len(files)
        return result
