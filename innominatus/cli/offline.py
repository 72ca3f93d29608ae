"""Offline work with the server's own code: Score ingest, manifest rendering and the provider loader.

Nothing here needs a database or Django settings: `workflows.score` is plain Python, and the
provider registry is built from the built-in catalogue plus the directories given with
`--provisioners`, exactly as the server builds it from its catalogue and admin-config.yaml.
What the server adds on top and this cannot know: its allowed-images policy, names already taken
by other teams, and the outputs of resources that already exist (rendered as <pending:…> text).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from innominatus.cli.errors import CliError
from workflows.providers.loader import PROVIDER_FILE, load_provider
from workflows.providers.model import Provider, ProviderError, UnknownResourceType
from workflows.providers.registry import BUILTIN_DIR, ProviderRegistry
from workflows.score import IngestResult
from workflows.score.ingest import ingest
from workflows.score.manifests import WorkloadInput, render_workload
from workflows.score.naming import k8s_name

# The server's defaults (innominatus/settings.py: SCORE_MAX_BYTES, INPUT_MAX_DEPTH, SCORE_MAX_*).
MAX_BYTES = 512 * 1024
MAX_DEPTH = 64
MAX_RESOURCES = 100
MAX_CONTAINERS = 20


def check_provider(directory: Path) -> tuple[Provider | None, str | None]:
    """(the provider, None) or (None, every problem) for a provider directory."""
    if not (directory / PROVIDER_FILE).is_file():
        return None, f"{directory} has no {PROVIDER_FILE}"
    try:
        return load_provider(directory, builtin=False), None
    except ProviderError as exc:
        return None, str(exc)


def build_registry(extra: Sequence[Path] = ()) -> ProviderRegistry:
    """The built-in providers plus `extra` provider directories (CliError naming what is broken)."""
    return _registry(tuple(Path(p).resolve() for p in extra))


@functools.lru_cache(maxsize=8)
def _registry(extra: tuple[Path, ...]) -> ProviderRegistry:
    providers = []
    directories = [(p.parent, True) for p in sorted(BUILTIN_DIR.glob(f"*/{PROVIDER_FILE}"))]
    directories += [(Path(p), False) for p in extra]
    for directory, builtin in directories:
        if not (directory / PROVIDER_FILE).is_file():
            raise CliError(f"--provisioners {directory}: no {PROVIDER_FILE} there")
        try:
            providers.append(load_provider(directory, builtin=builtin))
        except ProviderError as exc:
            raise CliError(f"provider in {directory} is invalid", lines=str(exc).splitlines()) from None
    try:
        return ProviderRegistry.build(providers)
    except ProviderError as exc:
        raise CliError(str(exc)) from None


def validate(text: str, content_type: str, registry: ProviderRegistry) -> IngestResult:
    """Ingest `text` as the server does (raises ScoreValidationError with every problem)."""
    return ingest(
        text,
        content_type=content_type,
        max_bytes=MAX_BYTES,
        max_depth=MAX_DEPTH,
        max_resources=MAX_RESOURCES,
        max_containers=MAX_CONTAINERS,
        known_types=registry.known_types(),
    )


def _secret_keys(registry: ProviderRegistry, resource_type: str) -> frozenset[str]:
    try:
        return registry.provider_for(resource_type).capability(resource_type).secret_outputs
    except UnknownResourceType:
        return frozenset()


def namespace_for(app: str, team: str | None, prefix: str = "") -> str:
    """The namespace the server gives a new application: <prefix><team>-<app> (as namespace_name)."""
    return k8s_name(prefix + team, app) if team else k8s_name(app)


def render(
    result: IngestResult, registry: ProviderRegistry, *, namespace: str, revision: int = 1
) -> tuple[list[dict[str, Any]], list[str]]:
    """(manifests, problems): what a deploy plan of a new application renders, from the same code."""
    from workflows.score.manifests import RenderError

    declared = result.spec.get("resources") or {}
    secret_keys = {name: _secret_keys(registry, res["type"]) for name, res in declared.items()}
    workload = WorkloadInput(
        spec=result.spec,
        namespace=namespace,
        outputs={},
        secret_keys=secret_keys,
        revision=revision,
        lenient=True,
    )
    try:
        return render_workload(workload).manifests, []
    except RenderError as exc:
        return [], exc.problems
