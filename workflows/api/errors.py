"""Translate domain errors into RFC 7807 problems, and describe those problems in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

from innominatus.problems import PROBLEM_CONTENT_TYPE, PayloadTooLarge, ProblemError
from workflows.api.serializers import ProblemSerializer
from workflows.score import ScoreValidationError

_DESCRIPTIONS = {
    400: "Invalid request; `errors` lists every problem with its path.",
    401: "Not authenticated.",
    403: "Not allowed.",
    404: "Not found (or owned by another team).",
    409: "Conflicts with the current state.",
    413: "The request body is too large.",
    415: "Unsupported content type.",
}


class InvalidSpec(ProblemError):
    """A Score document was refused; `errors` lists every problem."""

    default_detail = "The Score spec is invalid."
    default_code = "invalid_spec"


def score_problem(exc: ScoreValidationError) -> ProblemError:
    """A refused Score document as a problem listing every reason (413 when it was only too large)."""
    errors = exc.as_list()
    if all(problem.code == "document-too-large" for problem in exc.problems):
        return PayloadTooLarge(exc.problems[0].message, errors=errors)
    count = len(errors)
    detail = f"The Score spec is invalid: {count} problem{'s' if count != 1 else ''}; see errors."
    return InvalidSpec(detail, errors=errors)


def problems(*codes: int) -> dict[Any, OpenApiResponse]:
    """OpenAPI responses for error codes, served as application/problem+json."""
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(ProblemSerializer, description=_DESCRIPTIONS[code])
        for code in codes
    }
