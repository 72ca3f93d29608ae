"""Every file of the original innominatus (../shared/original-innominatus) through innominatus.

Each category asserts the exact set of files that are refused (or do not run to completion), each
with the reason innominatus gives and, in the comment, the original's own behaviour for that file.
A file not listed must load (and run, where it needs no outside system).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.compat import original_files as o
from tests.compat.runs import deploy_score, dry_run_score, run_all, run_workflow
from workflows.providers.registry import build_registry, forget_registry

pytestmark = pytest.mark.skipif(not o.ORIGINAL.is_dir(), reason="the original's files are not available")

ARCHIVED = "examples/archive/README.md: 'outdated patterns that are no longer supported'"

# Score specs refused at submission (load and dry-run), with the original's behaviour.
SCORE_REFUSALS = {
    # git-pr, git-check-pr, tfe-status: step types the original never had (its README: "step types it
    # never had"); the `workflows:` section now runs, so it is checked.
    "examples/archive/example-tfe-workflow.yaml": "unknown step type 'git-pr'",
    # ${workflow.*} and ${build.*} in a Score spec: placeholders the original never resolved; a
    # top-level `variables:` is not Score. Archived: ARCHIVED.
    "examples/archive/spec.yaml": "/variables: unknown field 'variables'",
    # ${resources.storage…} while the `storage` resource is commented out, and ${environment.type}
    # (never supported): the original deployed the literal text.
    "examples/dev-team-app.yaml": "refers to resource 'storage', which is not declared",
    # Two YAML documents (a Score spec, then a provider note): the original read only the first and
    # dropped the rest silently; innominatus asks for one document.
    "providers/container-team/examples/score-container-with-database.yaml": "only one YAML document is allowed",
    # The original's own fixture for validation errors ("Invalid Score specification for testing").
    "testdata/score-spec-invalid.yaml": "/metadata/name: 'name' is required",
}

# Score specs whose deploy with the built-in providers (render-only) does not complete.
DEPLOY_FAILURES = {
    # `route` resources whose properties are `value:` / `hostname:`: the original had no route
    # provider of its own (admin-config maps route to an external "ingress-route" definition); the
    # built-in route provider needs `params.host` and says so.
    "examples/score-spec-k8s.yaml": "parameter 'host' is required",
    "examples/score-spec-web-app.yaml": "parameter 'host' is required",
    # vault-space is served only by the vault-team provider, whose workflows need a Vault server.
    "examples/score-spec-with-product-metadata.yaml": "unknown resource type 'vault-space'",
    "examples/score-spec-with-vault.yaml": "unknown resource type 'vault-space'",
}

# Score specs the dry run refuses when the original's admin-config (and so its team providers) is
# loaded: the dry run forecasts each provider workflow's parameters and outputs exactly as the deploy
# computes them, so it refuses what the deploy would fail. The original resolved nothing at submission
# and failed (or deployed the literal placeholder) at run time.
ORIGINAL_PROVIDER_REFUSALS = {
    # database-team's postgres workflow outputs no `name`.
    "examples/archive/score-spec-with-workflow.yaml": "invalid ref 'resources.db.name'",
    # storage-team's s3 workflow requires `bucket_name` and outputs no `bucket`.
    "examples/score-ecommerce-backend-v2.yaml": "parameter 'bucket_name' is required",
    "examples/score-ecommerce-frontend.yaml": "parameter 'bucket_name' is required",
    "examples/score-order-service-v2.yaml": "parameter 'bucket_name' is required",
    # route resources without `host` (also refused by the deploy, see DEPLOY_FAILURES).
    "examples/score-spec-k8s.yaml": "parameter 'host' is required",
    "examples/score-spec-web-app.yaml": "parameter 'host' is required",
    # redis `memory: 1GB` is not a Kubernetes quantity; a route without `port`.
    "examples/score-spec-with-product-metadata.yaml": "does not match the pattern",
    # `${resources.secrets.outputs.…}`: vault-team's workflow declares no such outputs.
    "examples/score-spec-with-vault.yaml": "invalid ref 'resources.secrets.outputs.database-url'",
}

WORKFLOW_REFUSALS = {
    # kubernetes steps without `manifest` (the only key the original read): sketches. ARCHIVED.
    "examples/archive/conditional-workflow.yaml": "config.manifests is required",
    "examples/archive/context-workflow.yaml": "config.manifests is required",
    "examples/archive/parallel-workflow.yaml": "config.script or config.command is required",
    "examples/archive/resource-syntax-example.yaml": "config.manifests is required",
    # A Score-like document with `resources:`/`workflows:` among workflow documents. ARCHIVED.
    "examples/archive/resource-interpolation-workflow.yaml": "unknown top-level key 'resources'",
    # File-name lists under `manifests:`: never read by the original.
    "workflows/archive/db-lifecycle.yaml": "config.manifests lists file names: never supported",
    "workflows/archive/ephemeral-env.yaml": "config.manifests lists file names: never supported",
    "workflows/archive/observability-setup.yaml": "config.manifests lists file names: never supported",
    # A kubernetes step without manifests, an argocd-app without a repository.
    "workflows/archive/deploy-app.yaml": "config.manifests is required",
    # Nested `workflow` steps: never supported by the original.
    "workflows/archive/onboard-dev-team.yaml": "nested `workflow` steps were never supported",
    # A policy step with `engine: opa` and no script: the original's policy step ran scripts only.
    "workflows/archive/platform/security-scan.yaml": "config.script or config.command is required",
    # kind WorkflowPolicies is not a workflow (the original read such limits from admin-config).
    "workflows/archive/policies/workflow-policies.yaml": "unknown key 'maxWorkflowDuration' under spec",
    # Step types the original never had.
    "workflows/archive/products/analytics/data-pipeline.yaml": "unknown step type 'database-schema'",
    "workflows/archive/undeploy-app.yaml": "unknown step type 'argocd-delete'",
    # A kubernetes manifest with a YAML document that is a plain string.
    "workflows/archive/products/ecommerce/payment-integration.yaml": "manifest document 1 must be a mapping",
}

# Workflow documents that load but cannot run to completion here: each needs an outside system
# the test machine does not have (no cluster: kubectl fails; no Gitea, Argo CD, Keycloak, Vault,
# MinIO at *.localtest.me: curl exits 6/7) or files that are not in the original's repository.
# The original needed the same systems (its demo environment, "demo-time", provided them).
RUN_FAILURES = {
    # Argo CD (no admin-config `argocd:` here) and Gitea.
    "providers/container-team/workflows/delete-argocd-app.yaml": "argocd-app needs config.argocd_url",
    "providers/container-team/workflows/delete-container.yaml": "argocd-app needs config.argocd_url",
    "providers/container-team/workflows/provision-argocd-app.yaml": "argocd-app needs config.argocd_url",
    "providers/container-team/workflows/update-argocd-app.yaml": "argocd-app needs config.argocd_url",
    "providers/container-team/workflows/delete-gitea-repo.yaml": "no Gitea credentials",
    "providers/container-team/workflows/provision-container.yaml": "step create-git-repo (script): script exited with code 6",
    "providers/container-team/workflows/provision-gitea-repo.yaml": "script exited with code 6",
    "providers/identity-team/workflows/delete-gitea-org.yaml": "script exited with code 6",
    "providers/identity-team/workflows/provision-gitea-org.yaml": "script exited with code 6",
    "workflows/archive/onboard-dev-team-hardcoded.yaml": "step setup-gitea-org (script): script exited with code 6",
    "workflows/archive/onboard-team-simple.yaml": "step setup-gitea-org (script): script exited with code 6",
    "workflows/archive/team-setup.yaml": "step create-gitea-organization (script): script exited with code 6",
    # Keycloak.
    "providers/identity-team/workflows/delete-keycloak-group.yaml": "script exited with code 6",
    "providers/identity-team/workflows/provision-keycloak-group.yaml": "script exited with code 6",
    "workflows/archive/keycloak-team-setup.yaml": "step create-keycloak-group (script): script exited with code 6",
    # A cluster with the Zalando operator: the scripts poll it for minutes (stopped after 10 s here).
    "providers/database-team/workflows/provision-postgres.yaml": "step wait-for-database (script): step timed out",
    "providers/database-team/workflows/update-postgres.yaml": "step wait-for-update (script): step timed out",
    # MinIO's client `mc`, not installed (and a MinIO server).
    "providers/storage-team/workflows/delete-s3-bucket.yaml": "mc: command not found",
    "providers/storage-team/workflows/provision-s3-bucket.yaml": "mc: command not found",
    # A cluster (kubectl) and Vault.
    "providers/vault-team/workflows/provision-vault-space.yaml": "step configure-kubernetes-auth (script)",
    "workflows/archive/deploy-app-with-db.yaml": "step provision-database (script): script exited with code 1",
    "workflows/archive/onboard-dev-team-kubectl.yaml": "step create-namespace (script): script exited with code 1",
    "workflows/archive/onboard-dev-team-simple.yaml": "step verify-namespace (script): script exited with code 1",
    # Terraform modules that are not in the original's repository.
    "workflows/archive/products/ecommerce/database-setup.yaml": "module directory",
    "workflows/archive/s3-storage-example.yaml": "no terraform configuration",
}


def _reasons(results: dict[str, str]) -> dict[str, str]:
    return {path: reason for path, reason in results.items() if reason}


def _matches(found: dict[str, str], expected: dict[str, str]) -> None:
    assert sorted(found) == sorted(expected), {k: v[:200] for k, v in found.items()}
    for path, fragment in expected.items():
        assert fragment in found[path], (path, found[path])


def test_every_file_is_classified() -> None:
    counts = {
        kind: len(o.files(kind)) for kind in ("score", "workflow", "provider", "goldenpaths", "admin-config")
    }
    assert counts == {"score": 23, "workflow": 49, "provider": 7, "goldenpaths": 2, "admin-config": 2}
    assert [o.relative(p) for p in o.files("platform")] == ["examples/platform.yaml"]


def test_score_specs_load_with_warnings_for_the_original_dialect() -> None:
    # The Score document itself (ingest); the `workflows:` section is checked at submission.
    expected = {k: v for k, v in SCORE_REFUSALS.items() if k != "examples/archive/example-tfe-workflow.yaml"}
    _matches(_reasons(run_all(o.files("score"), o.try_score)), expected)


def test_workflow_documents_load() -> None:
    _matches(_reasons(run_all(o.files("workflow"), o.try_workflow)), WORKFLOW_REFUSALS)


def test_every_provider_directory_loads() -> None:
    assert _reasons(run_all(o.files("provider"), o.try_provider)) == {}


def test_goldenpaths_files() -> None:
    results = _reasons(run_all(o.files("goldenpaths"), o.try_goldenpaths))
    # The root file has every entry commented out: the original listed no golden paths either.
    assert results["goldenpaths.yaml"] == "no golden paths listed"
    # examples/goldenpaths.yaml names ./workflows/<name>.yaml, which is not where the workflows are
    # (they moved to workflows/archive/); the original, run from its repository, could not find them.
    assert "workflow file ./workflows/team-setup.yaml does not exist" in results["examples/goldenpaths.yaml"]


def test_golden_paths_list_with_their_parameter_schemas(tmp_path: Path) -> None:
    """examples/goldenpaths.yaml next to the archived workflows: the `parameters:` blocks are honoured."""
    from workflows.engine.errors import WorkflowValidationError
    from workflows.goldenpaths.catalog import _entry

    shutil.copy(o.ORIGINAL / "examples" / "goldenpaths.yaml", tmp_path / "goldenpaths.yaml")
    shutil.copytree(o.ORIGINAL / "workflows" / "archive", tmp_path / "workflows")
    import yaml

    entries = yaml.safe_load((tmp_path / "goldenpaths.yaml").read_text())["goldenpaths"]
    listed, refused = {}, {}
    for name, raw in entries.items():
        try:
            listed[name] = _entry(name, raw, tmp_path)
        except WorkflowValidationError as exc:
            refused[name] = exc.problems[0].message
    # The others are refused for the reasons their workflow files are (WORKFLOW_REFUSALS).
    assert sorted(listed) == ["team-setup"]
    assert sorted(refused) == [
        "db-lifecycle",
        "deploy-app",
        "ephemeral-env",
        "observability-setup",
        "onboard-dev-team",
        "undeploy-app",
    ]
    assert "nested `workflow` steps were never supported" in refused["onboard-dev-team"]
    # Every entry's `parameters:` block is a valid schema (types, allowed_values, patterns, defaults).
    from workflows.engine.parameters import parse_parameter_specs

    for name, raw in entries.items():
        _specs, problems = parse_parameter_specs(raw.get("parameters"), f"goldenpaths.{name}.parameters")
        assert problems == [], name
    ephemeral = dict(entries["ephemeral-env"]["parameters"])
    assert ephemeral["ttl"]["type"] == "duration"
    team = {spec.name: spec for spec in listed["team-setup"].parameters}
    assert team["org_visibility"].allowed_values == ("public", "limited", "private")
    assert team["org_visibility"].default == "public"
    assert team["org_name"].pattern == "^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$"


@pytest.mark.parametrize("config", ["admin-config.yaml", "examples/admin-config.yaml"])
def test_each_admin_config_starts_the_server(config: str) -> None:
    assert o.try_admin_config(o.ORIGINAL / config) == ""


def test_the_original_admin_config_serves_its_providers(settings: Any) -> None:
    settings.ADMIN_CONFIG = str(o.ORIGINAL / "admin-config.yaml")
    forget_registry()
    registry = build_registry(strict=True)
    configured = {name for name, provider in registry.providers.items() if not provider.builtin}
    assert configured == {
        "database-team",
        "container-team",
        "storage-team",
        "identity-team",
        "vault-team",
        "test-team",
    }
    # database-team, storage-team and container-team take over built-in types, as admin-config decides.
    assert registry.provider_for("postgres").name == "database-team"
    assert registry.provider_for("s3").name == "storage-team"
    assert registry.provider_for("namespace").name == "container-team"
    assert registry.route("test-db", "create").workflow.name == "provision-test-db"
    assert registry.disabled == {}


@pytest.mark.django_db(transaction=True)
def test_score_specs_dry_run_with_the_original_providers(settings: Any, developer: Any) -> None:
    settings.ADMIN_CONFIG = str(o.ORIGINAL / "admin-config.yaml")
    forget_registry()
    found = _reasons({o.relative(p): dry_run_score(p, developer) for p in o.files("score")})
    _matches(found, SCORE_REFUSALS | ORIGINAL_PROVIDER_REFUSALS)


@pytest.mark.django_db(transaction=True)
def test_score_specs_deploy_render_only(settings: Any, developer: Any, tmp_path: Path) -> None:
    """Deploys run to completion with the built-in providers (no cluster: render-only); the team
    providers' workflows need their outside systems (a cluster operator, Vault, Gitea, MinIO)."""
    settings.ADMIN_CONFIG = str(tmp_path / "absent.yaml")
    forget_registry()
    found = _reasons({o.relative(p): deploy_score(p, developer) for p in o.files("score")})
    expected = {path: fragment for path, fragment in SCORE_REFUSALS.items()} | DEPLOY_FAILURES
    _matches(found, expected)


@pytest.mark.django_db(transaction=True)
def test_workflow_documents_run_to_completion_render_only() -> None:
    paths = [p for p in o.files("workflow") if o.relative(p) not in WORKFLOW_REFUSALS]
    found = _reasons(run_all(paths, run_workflow))
    _matches(found, RUN_FAILURES)


def test_the_legacy_platform_yaml_loads_as_a_provider(tmp_path: Path) -> None:
    """examples/platform.yaml (kind Platform): the original's older provider file name."""
    from workflows.providers.loader import load_provider

    shutil.copy(o.ORIGINAL / "examples" / "platform.yaml", tmp_path / "platform.yaml")
    provider = load_provider(tmp_path)
    # Its `provisioners:` (gitea-repo, kubernetes, argocd-app) are step types here, not resource types.
    assert (provider.name, provider.claimed_types(), provider.workflows) == ("builtin", [], {})
