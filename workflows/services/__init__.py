"""Use cases of the workflows app, one module per area; views, admin and tasks call these."""

from workflows.services.applications import (
    PlannedResource,
    SubmitPlan,
    SubmitResult,
    delete_application,
    submit_spec,
)
from workflows.services.diffing import diff_revisions

__all__ = [
    "PlannedResource",
    "SubmitPlan",
    "SubmitResult",
    "delete_application",
    "diff_revisions",
    "submit_spec",
]
