"""Workflow-engine validation errors as RFC 7807 problems with a path for every problem."""

from innominatus.problems import ProblemError
from workflows.engine.errors import WorkflowValidationError


class InvalidWorkflowInput(ProblemError):
    """Parameters or a workflow definition were refused; `errors` lists every problem."""

    default_detail = "The workflow input is invalid."
    default_code = "invalid_workflow_input"


def workflow_problem(exc: WorkflowValidationError) -> ProblemError:
    """A 400 problem listing each problem with its path, message, code and suggestion."""
    errors = [
        {
            "path": p.path,
            "message": p.message,
            "code": p.code,
            **({"suggestion": p.suggestion} if p.suggestion else {}),
        }
        for p in exc.problems
    ]
    count = len(errors)
    return InvalidWorkflowInput(f"{count} problem{'s' if count != 1 else ''}; see errors.", errors=errors)
