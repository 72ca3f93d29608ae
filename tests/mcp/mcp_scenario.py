"""The agent's journey, driven through the SDK's own client over either transport."""

import json
import time
from typing import Any

import anyio
from mcp import Client

HELLO = """\
apiVersion: score.dev/v1b1
metadata:
  name: {name}
containers:
  hello:
    image: busybox
    command: ["/bin/sh"]
    args: ["-c", "while true; do echo Hello World!; sleep 5; done"]
"""


def spec(name: str) -> str:
    return HELLO.format(name=name)


def data(result: Any) -> Any:
    """The structured result of a tool call (the JSON text when none)."""
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


async def call(client: Client, name: str, **arguments: Any) -> Any:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, f"{name}: {result.content[0].text}"
    return data(result)


async def follow(client: Client, execution: str, timeout: float = 120) -> dict[str, Any]:
    """Poll get_workflow until the execution ends."""
    deadline = time.monotonic() + timeout
    while True:
        workflow: dict[str, Any] = await call(client, "get_workflow", id=execution)
        if workflow["status"] in ("completed", "failed", "cancelled"):
            return workflow
        assert time.monotonic() < deadline, f"{execution} still {workflow['status']}"
        await anyio.sleep(0.5)


async def journey(client: Client, app: str, broken: str) -> None:
    """List tools, validate, plan, deploy and follow; read a failed workflow's logs; a bad parameter."""
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"validate_spec", "plan_spec", "deploy_spec", "get_workflow_logs", "run_golden_path"} <= names

    checked = await call(client, "validate_spec", spec=spec(app))
    assert checked == {"valid": True, "application": app, "containers": ["hello"], "resources": {}}
    invalid = await client.call_tool("validate_spec", {"spec": "apiVersion: score.dev/v1b1\nmetadata: {}\n"})
    assert invalid.is_error
    assert {e["path"] for e in data(invalid)["errors"]} == {"containers", "metadata.name"}

    planned = await call(client, "plan_spec", spec=spec(app))
    assert planned["plan"]["application"] == app and planned["plan"]["next_revision"] == 1
    kinds = {manifest["kind"] for manifest in planned["deployment"]["manifests"]}
    assert "Deployment" in kinds

    refused = await client.call_tool("deploy_spec", {"spec": spec(app), "confirm": "plan-0000"})
    assert refused.is_error and data(refused)["errors"][0]["path"] == "confirm"
    deployed = await call(client, "deploy_spec", spec=spec(app), confirm=planned["plan_id"])
    assert deployed["revision"] == 1 and deployed["execution"].startswith("wf-")
    done = await follow(client, deployed["execution"])
    assert done["status"] == "completed", done
    assert all(step["status"] in ("completed", "skipped") for step in done["steps"])
    listed = await call(client, "list_applications")
    assert [a["name"] for a in listed["results"]] == [app]

    # A deploy whose rollout never finishes fails; its logs say why.
    plan = await call(client, "plan_spec", spec=spec(broken))
    failed_run = await call(client, "deploy_spec", spec=spec(broken), confirm=plan["plan_id"])
    failed = await follow(client, failed_run["execution"])
    assert failed["status"] == "failed"
    step = next(s["name"] for s in failed["steps"] if s["status"] == "failed")
    logs = await call(client, "get_workflow_logs", id=failed_run["execution"], step=step, limit=500)
    text = "\n".join(line["message"] for line in logs["lines"])
    assert text and logs["complete"], logs
    assert "deadline" in (text + failed["error_message"]).lower()

    bad = await client.call_tool(
        "run_golden_path", {"name": "ephemeral-env", "parameters": {"app_name": app, "ttl": "forever"}}
    )
    assert bad.is_error
    problem = data(bad)
    assert problem["status"] == 400
    assert any("ttl" in e["path"] and e["message"] for e in problem["errors"]), problem
