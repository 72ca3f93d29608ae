"""MCP resources (Score schema, built-in resource types, golden-path documentation) and prompts.

Resource contents come from the same sources as the API: the vendored Score schema, the provider
catalogue and golden paths read through their API views (so a role without providers:read or
goldenpaths:read gets the API's refusal here too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from innominatus.mcp.dispatch import Caller, call_api
from innominatus.mcp.tools import ToolProblem, problem_from

SCHEMA_URI = "innominatus://score/schema"
TYPES_URI = "innominatus://resource-types"
GOLDEN_PATH_PREFIX = "innominatus://golden-paths/"


@dataclass(frozen=True)
class ResourceInfo:
    uri: str
    name: str
    title: str
    description: str
    mime_type: str


def _api(caller: Caller, path: str) -> Any:
    answer = call_api(caller, "GET", path)
    if not answer.ok:
        raise problem_from(answer)
    return answer.data


def list_resources(caller: Caller) -> list[ResourceInfo]:
    """The fixed resources and one documentation page per golden path the caller may read."""
    found = [
        ResourceInfo(
            SCHEMA_URI,
            "score-schema",
            "Score schema",
            "The Score v1b1 JSON schema specs are "
            "validated against (plus the extension keys workflows: and environment:).",
            "application/schema+json",
        ),
        ResourceInfo(
            TYPES_URI,
            "resource-types",
            "Built-in resource types",
            "Resource types the built-in providers provision, with the outputs placeholders "
            "such as ${resources.db.host} can use.",
            "application/json",
        ),
    ]
    answer = call_api(caller, "GET", "/api/golden-paths")
    if answer.ok:
        for path in answer.data:
            found.append(
                ResourceInfo(
                    f"{GOLDEN_PATH_PREFIX}{path['name']}",
                    f"golden-path-{path['name']}",
                    f"Golden path {path['name']}",
                    path.get("description", ""),
                    "text/markdown",
                )
            )
    return found


def _resource_types(caller: Caller) -> str:
    from workflows.score import BUILTIN_RESOURCE_TYPES

    providers = _api(caller, "/api/providers")
    items = providers.get("results", providers) if isinstance(providers, dict) else providers
    builtin = [
        {
            "provider": p["name"],
            "resource_types": p.get("resource_types", []),
            "capabilities": p.get("capabilities", []),
        }
        for p in items
        if p.get("builtin")
    ]
    body = {"score_builtin_types": sorted(BUILTIN_RESOURCE_TYPES), "providers": builtin}
    return json.dumps(body, indent=2, sort_keys=True)


def _golden_path_doc(caller: Caller, name: str) -> str:
    from innominatus.mcp.schemas import parameters_schema

    path = _api(caller, f"/api/golden-paths/{name}")
    lines = [f"# Golden path `{path['name']}`", "", path.get("description", ""), ""]
    lines += [
        f"- category: {path.get('category', '')}",
        f"- workflow: {path.get('workflow', '')}",
        f"- steps: {path.get('steps', '')}",
        f"- estimated duration: {path.get('estimated_duration', '')}",
        f"- tags: {', '.join(path.get('tags', []))}",
        "",
        "## Parameters",
        "",
    ]
    for spec in path.get("parameters", []):
        flags = "required" if spec.get("required") else f"default {spec.get('default')!r}"
        lines.append(
            f"- `{spec['name']}` ({spec.get('type', 'string')}, {flags}): {spec.get('description', '')}"
        )
    schema = json.dumps(parameters_schema(path.get("parameters", [])), indent=2)
    lines += [
        "",
        "## Parameter schema",
        "",
        "```json",
        schema,
        "```",
        "",
        f"Run it with the tool `run_golden_path` (name `{path['name']}`, parameters as above).",
    ]
    return "\n".join(lines)


def read_resource(caller: Caller, uri: str) -> tuple[str, str]:
    """(text, mime type) of a resource."""
    if uri == SCHEMA_URI:
        from workflows.score import load_schema

        return json.dumps(load_schema(), indent=2), "application/schema+json"
    if uri == TYPES_URI:
        return _resource_types(caller), "application/json"
    if uri.startswith(GOLDEN_PATH_PREFIX):
        return _golden_path_doc(caller, uri[len(GOLDEN_PATH_PREFIX) :]), "text/markdown"
    raise ToolProblem(404, f"No resource {uri!r}.", [{"path": "uri", "message": "unknown resource"}])


PROMPTS: dict[str, dict[str, Any]] = {
    "deploy-my-service": {
        "title": "Deploy my service",
        "description": "Validate, plan and deploy a Score spec, then follow its workflow to the end.",
        "arguments": [
            ("spec", "The Score spec (YAML) of the service, or a path the agent can read.", False),
            ("team", "The owning team, when the user belongs to several.", False),
        ],
        "text": (
            "Deploy this service to innominatus.\n"
            "1. If no Score spec is given, write one (read resource innominatus://score/schema and "
            "innominatus://resource-types for the resource types and their outputs).\n"
            "2. Call validate_spec and fix every problem it lists (each names its path).\n"
            "3. Call plan_spec and show me the plan and the manifest diff; ask me before deploying.\n"
            "4. After I agree, call deploy_spec with confirm set to the plan_id.\n"
            "5. Follow the returned execution with get_workflow until it is completed or failed; "
            "if it failed, read get_workflow_logs of the failed step and explain why.\n"
            "{team_line}\nSpec:\n{spec}"
        ),
    },
    "why-did-my-workflow-fail": {
        "title": "Why did my workflow fail",
        "description": "Diagnose a failed workflow execution from its steps and logs.",
        "arguments": [("workflow", "The execution id (wf-…); the latest failed one when omitted.", False)],
        "text": (
            "Find out why workflow {workflow} failed.\n"
            "1. If no id is given, call list_workflows with status=failed and take the newest.\n"
            "2. Call get_workflow: note error_message and the first failed step.\n"
            "3. Call get_workflow_logs with step=<that step> (follow next_after if not complete).\n"
            "4. Explain the cause in two or three sentences and propose a fix (a spec change, a "
            "parameter, or retry_workflow if the failure was transient). Do not retry without asking."
        ),
    },
}


def render_prompt(name: str, arguments: dict[str, str]) -> tuple[str, str]:
    """(description, text) of a prompt with its arguments filled in."""
    prompt = PROMPTS.get(name)
    if prompt is None:
        raise ToolProblem(404, f"No prompt {name!r}.", [{"path": "name", "message": "unknown prompt"}])
    team = arguments.get("team", "")
    values = {
        "spec": arguments.get("spec") or "(none given: write one)",
        "team_line": f"Owning team: {team}." if team else "",
        "workflow": arguments.get("workflow") or "(the latest failed one)",
    }
    return str(prompt["description"]), str(prompt["text"]).format(**values)
