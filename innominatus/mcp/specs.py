"""The spec tools: validate offline, plan (dry run) and deploy only what was planned."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from django.conf import settings

from innominatus.accounts import rbac
from innominatus.mcp.dispatch import Caller, call_api
from innominatus.mcp.problems import ToolProblem, ok_data
from workflows.providers.policies import image_allowed, tenancy_policy
from workflows.providers.registry import current_registry
from workflows.score import ScoreValidationError, ingest

SPEC_MEDIA_TYPE = "application/yaml"
# Validation reads nothing and writes nothing: whoever may read specs may check one.
VALIDATE_PERMISSION = "specs:read"


def validate_offline(caller: Caller, arguments: dict[str, Any]) -> Any:
    """Parse and validate a Score spec exactly as submission does, without touching any state."""
    if not rbac.has_permission(caller.user, VALIDATE_PERMISSION):
        raise ToolProblem(403, f"Your role does not grant {VALIDATE_PERMISSION}.")
    try:
        result = ingest(
            str(arguments["spec"]),
            content_type=SPEC_MEDIA_TYPE,
            max_bytes=settings.SCORE_MAX_BYTES,
            max_depth=settings.INPUT_MAX_DEPTH,
            max_resources=settings.SCORE_MAX_RESOURCES,
            max_containers=settings.SCORE_MAX_CONTAINERS,
            known_types=current_registry().known_types(),
            image_allowed=functools.partial(image_allowed, patterns=tenancy_policy().allowed_images),
        )
    except ScoreValidationError as exc:
        errors = exc.as_list()
        raise ToolProblem(400, f"The Score spec is invalid: {len(errors)} problem(s).", errors) from None
    return {
        "valid": True,
        "application": result.spec["metadata"]["name"],
        "containers": sorted(result.spec.get("containers", {})),
        "resources": {name: spec.get("type") for name, spec in (result.spec.get("resources") or {}).items()},
    }


def _submit(caller: Caller, arguments: dict[str, Any], *, dry_run: bool) -> dict[str, Any]:
    query = {"dry_run": dry_run, "team": arguments.get("team"), "comment": arguments.get("comment")}
    body = str(arguments["spec"])
    answer = call_api(
        caller, "POST", "/api/applications", query=query, body=body, content_type=SPEC_MEDIA_TYPE
    )
    return dict(ok_data(answer))


def plan_id(plan: dict[str, Any]) -> str:
    """A short digest of a plan: what it would change, against which current revision, for which team."""
    text = json.dumps(plan, sort_keys=True, separators=(",", ":"), default=str)
    return "plan-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_spec(caller: Caller, arguments: dict[str, Any]) -> Any:
    body = _submit(caller, arguments, dry_run=True)
    return {"plan_id": plan_id(body["plan"]), "plan": body["plan"], "deployment": body.get("deployment")}


def deploy_spec(caller: Caller, arguments: dict[str, Any]) -> Any:
    # Confirm against a fresh dry run: a spec, team or current revision that changed since the plan
    # yields another plan id, and nothing is deployed that the agent's user did not see planned.
    planned = _submit(caller, arguments, dry_run=True)
    current = plan_id(planned["plan"])
    if arguments.get("confirm") != current:
        raise ToolProblem(
            409,
            "Deploy only what was planned: call plan_spec with this spec, review the plan, then pass its "
            "plan_id as confirm.",
            [
                {
                    "path": "confirm",
                    "message": "does not match the current plan of this spec (never planned, or the spec "
                    "or the application changed since)",
                    "code": "plan_mismatch",
                }
            ],
        )
    body = _submit(caller, arguments, dry_run=False)
    return {
        "created": body.get("created"),
        "application": (body.get("application") or {}).get("name"),
        "revision": (body.get("revision") or {}).get("number"),
        "execution": body.get("execution"),
        "plan": body.get("plan"),
    }
