"""The original's `gitea-repo` and `argocd-app` steps, over the Gitea and Argo CD REST APIs.

Every request goes through the `http` step (workflows/steps/http.py): the same SSRF guard (a
private Gitea or Argo CD must be on HTTP_STEP_ALLOWLIST), timeouts, idempotency keys and
cancellation. Credentials never come from workflow files: they are the `gitea:` / `argocd:`
sections of admin-config.yaml (`token`, or `username` + `password`; the original's place for
them) or the environment (`GITEA_TOKEN`, `ARGOCD_TOKEN`), and every log line is redacted of them.

`gitea-repo` — `operation` create (default) or delete; `gitea_url` (default: admin-config
`gitea.internalURL`, else `gitea.url`), `org_name` (alias `owner`, default `gitea.orgName`),
`repo_name` (alias `repoName`), `description`, `private`, `auto_init`. Creating an existing
repository is success (outputs of the existing one); deleting a missing one is success too.
Outputs: `repo_url`, `clone_url`, `ssh_url`, `full_name`.

`argocd-app` — `operation` create (default), update or delete; `argocd_url` (default admin-config
`argocd.url`), `app_name` (alias `appName`), `project` (default), `repo_url` (alias `repoURL`),
`path`, `target_revision` (alias `targetRevision`, default HEAD), `namespace` / `dest_namespace`,
`server` (default https://kubernetes.default.svc), `argocd_namespace`, `sync_policy` (`auto`
enables automated sync; also `auto_sync`, `prune`, `self_heal`, or an `automated:` mapping),
`cascade` (delete, default true). Outputs: `app_name`, `sync_status`, `health_status`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from workflows.steps.base import Step, StepContext, StepResult, redacting_log
from workflows.steps.http import HttpStep

TRUE = ("true", "1", "yes", "on")


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value if isinstance(value, bool) else str(value).strip().lower() in TRUE


def _first(config: Mapping[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        value = config.get(key)
        if value not in (None, ""):
            return value
    return default


def _integration(name: str) -> dict[str, str]:
    try:
        from workflows.providers.config import platform_config

        return dict(platform_config().integrations.get(name, {}))
    except Exception:
        return {}


class _Api:
    """Authenticated JSON requests to one API through the http step; secrets redacted from logs."""

    def __init__(self, ctx: StepContext, base: str, headers: dict[str, str], secrets: list[str]) -> None:
        self.ctx = replace(ctx, log=redacting_log(ctx.log, [*ctx.secrets, *secrets]))
        self.base = base.rstrip("/")
        self.headers = headers

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        ok: tuple[int, ...] = (200, 201),
        outputs: Any = None,
    ) -> StepResult:
        config: dict[str, Any] = {
            "method": method,
            "url": self.base + path,
            "headers": dict(self.headers),
            "expected_status": list(ok),
        }
        if body is not None:
            config["body"] = body
        if outputs:
            config["outputs"] = outputs
        return HttpStep().run(replace(self.ctx, config=config, step_type="http"))


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class GiteaRepoStep(Step):
    """Creates or deletes a repository in a Gitea organisation."""

    type_name = "gitea-repo"

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        operation = config.get("operation", "create")
        if operation not in ("create", "delete") and "{{" not in str(operation):
            return [f"config.operation must be create or delete, not {operation!r}"]
        if not _first(config, "repo_name", "repoName", "name"):
            return ["config.repo_name is required"]
        return []

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        config, settings = ctx.config, _integration("gitea")
        url = _first(config, "gitea_url", default=settings.get("internalURL") or settings.get("url"))
        org = _first(config, "org_name", "owner", "org", default=settings.get("orgName"))
        repo = str(_first(config, "repo_name", "repoName", "name"))
        if not url or not org:
            return StepResult.fail(
                "gitea-repo needs config.gitea_url and config.org_name (or admin-config gitea.url and gitea.orgName)"
            )
        token = os.environ.get("GITEA_TOKEN") or settings.get("token", "")
        if token:
            headers, secrets = {"Authorization": f"token {token}"}, [token]
        elif settings.get("username") and settings.get("password"):
            headers = {"Authorization": _basic(settings["username"], settings["password"])}
            secrets = [settings["password"], headers["Authorization"]]
        else:
            return StepResult.fail(
                "no Gitea credentials: set gitea.token (or username and password) or GITEA_TOKEN"
            )
        api = _Api(ctx, str(url), headers, secrets)
        path = f"/api/v1/repos/{quote(str(org), safe='')}/{quote(repo, safe='')}"
        if config.get("operation", "create") == "delete":
            result = api.call("DELETE", path, ok=(204, 404))
            if result.status != "completed":
                return result
            gone = "already absent" if result.outputs.get("status_code") == 404 else "deleted"
            ctx.log(f"repository {org}/{repo} {gone}", "system")
            return StepResult.ok(full_name=f"{org}/{repo}", status=gone)
        wanted = {
            "repo_url": "html_url",
            "clone_url": "clone_url",
            "ssh_url": "ssh_url",
            "full_name": "full_name",
        }
        body = {
            "name": repo,
            "description": str(config.get("description") or ""),
            "private": _flag(config.get("private"), False),
            "auto_init": _flag(config.get("auto_init"), True),
        }
        created = api.call(
            "POST", f"/api/v1/orgs/{quote(str(org), safe='')}/repos", body=body, ok=(201, 409), outputs=None
        )
        if created.status != "completed":
            return created
        # 409: it exists already (a retried step, or created by hand): read it, like a create would.
        found = api.call("GET", path, ok=(200,), outputs=wanted)
        if found.status != "completed":
            return found
        state = "created" if created.outputs.get("status_code") == 201 else "already existed"
        ctx.log(f"repository {org}/{repo} {state}", "system")
        return StepResult.ok(**{k: v for k, v in found.outputs.items() if k != "status_code"}, status=state)


class ArgoCDAppStep(Step):
    """Creates, updates or deletes an Argo CD Application."""

    type_name = "argocd-app"

    def validate_config(self, config: Mapping[str, Any]) -> list[str]:
        operation = config.get("operation", "create")
        if operation not in ("create", "update", "delete") and "{{" not in str(operation):
            return [f"config.operation must be create, update or delete, not {operation!r}"]
        problems = []
        if not _first(config, "app_name", "appName", "name"):
            problems.append("config.app_name is required")
        if operation != "delete" and not _first(config, "repo_url", "repoURL"):
            problems.append("config.repo_url is required")
        return problems

    def run(self, ctx: StepContext) -> StepResult:
        problems = self.validate_config(ctx.config)
        if problems:
            return StepResult.fail("; ".join(problems))
        config, settings = ctx.config, _integration("argocd")
        url = _first(config, "argocd_url", default=settings.get("url"))
        if not url:
            return StepResult.fail("argocd-app needs config.argocd_url (or admin-config argocd.url)")
        name = str(_first(config, "app_name", "appName", "name"))
        token = os.environ.get("ARGOCD_TOKEN") or settings.get("token", "")
        if not token and settings.get("username") and settings.get("password"):
            # Argo CD exchanges a user's password for a session token.
            login = _Api(ctx, str(url), {}, [settings["password"]]).call(
                "POST",
                "/api/v1/session",
                body={"username": settings["username"], "password": settings["password"]},
                ok=(200,),
                outputs={"token": "token"},  # nosec B105 - an output name, not a password
            )
            if login.status != "completed":
                return StepResult.fail(f"Argo CD login failed: {login.error}")
            token = str(login.outputs["token"])
        if not token:
            return StepResult.fail(
                "no Argo CD credentials: set argocd.token (or username and password) or ARGOCD_TOKEN"
            )
        api = _Api(ctx, str(url), {"Authorization": f"Bearer {token}"}, [token, settings.get("password", "")])
        path = f"/api/v1/applications/{quote(name, safe='')}"
        operation = config.get("operation", "create")
        if operation == "delete":
            cascade = "true" if _flag(config.get("cascade"), True) else "false"
            result = api.call("DELETE", f"{path}?cascade={cascade}", ok=(200, 404))
            if result.status != "completed":
                return result
            return StepResult.ok(app_name=name, status="deleted")
        application = _application(config, name)
        if operation == "update":
            result = api.call("PUT", path, body=application, ok=(200,))
        else:
            result = api.call("POST", "/api/v1/applications?upsert=true", body=application, ok=(200,))
        if result.status != "completed":
            return result
        state = api.call(
            "GET",
            path,
            ok=(200,),
            outputs={"sync_status": "status.sync.status", "health_status": "status.health.status"},
        )
        if state.status != "completed":
            return state
        return StepResult.ok(
            app_name=name,
            sync_status=state.outputs["sync_status"],
            health_status=state.outputs["health_status"],
        )


def _application(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The Application resource the original built from the same configuration keys."""
    spec: dict[str, Any] = {
        "project": str(config.get("project") or "default"),
        "source": {
            "repoURL": str(_first(config, "repo_url", "repoURL")),
            "path": str(config.get("path") or "."),
            "targetRevision": str(_first(config, "target_revision", "targetRevision", default="HEAD")),
        },
        "destination": {
            "server": str(config.get("server") or "https://kubernetes.default.svc"),
            "namespace": str(_first(config, "dest_namespace", "namespace", default=name)),
        },
    }
    automated = config.get("automated")
    policy = str(_first(config, "sync_policy", "syncPolicy", default="")).lower()
    if isinstance(automated, Mapping):
        spec["syncPolicy"] = {"automated": {str(k): _flag(v, False) for k, v in automated.items()}}
    elif policy in ("auto", "automated") or _flag(config.get("auto_sync"), False):
        spec["syncPolicy"] = {
            "automated": {
                "prune": _flag(config.get("prune"), False),
                "selfHeal": _flag(config.get("self_heal"), False),
            }
        }
    metadata: dict[str, Any] = {"name": name}
    if config.get("argocd_namespace"):
        metadata["namespace"] = str(config["argocd_namespace"])
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": metadata, "spec": spec}
