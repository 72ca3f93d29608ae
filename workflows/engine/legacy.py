"""What the original innominatus's workflow files assume, and what it never supported.

Plain Python, no Django: used by the loader (warnings for keys the original ignored, clear
refusals for step types it never had) and by the provider loader (the inputs the original always
passed to provider workflows).
"""

from __future__ import annotations

from .model import ParameterSpec

# The original always passed these to a provider's workflow, declared or not.
PROVIDER_INPUTS = (
    ParameterSpec("app_name", description="the application (passed by innominatus, as by the original)"),
    ParameterSpec("resource_name", description="the resource's name in the Score spec"),
    ParameterSpec("resource_type", description="the resource's type"),
    ParameterSpec("namespace", description="the application's namespace"),
)

# Keys under `spec:` that the original's loader ignored (decoded into a struct without them):
# accepted, reported as a warning, never acted on.
IGNORED_SPEC_KEYS = frozenset(
    {"triggers", "requiredPlatformWorkflows", "allowedProductWorkflows", "workflowOverrides", "schedule"}
)
IGNORED_TOP_LEVEL_KEYS = frozenset({"triggers", "labels", "annotations", "version", "owner"})

# Step types used in the original's own (archived) files that its executor never had.
NEVER_SUPPORTED_STEP_TYPES = {
    "workflow": "nested `workflow` steps were never supported by the original innominatus either; "
    "run the workflows one after another, or as golden paths",
    "argocd-delete": "the original innominatus had no 'argocd-delete' step type either; "
    "use 'argocd-app' with operation: delete",
    "kubernetes-delete": "the original innominatus had no 'kubernetes-delete' step type either; "
    "use 'kubernetes' with operation: delete",
    "gitea-archive": "the original innominatus had no 'gitea-archive' step type either",
    "database-schema": "the original innominatus had no 'database-schema' step type either; "
    "use 'script' to run the migration tool",
}


def ignored_keys_warning(path: str, keys: list[str]) -> str:
    """The warning for keys that are accepted but do nothing (as in the original)."""
    listed = ", ".join(repr(key) for key in sorted(keys))
    return f"{path}: ignored {listed}: not used by innominatus (the original innominatus ignored them too)"
