"""/mcp answers with the API's authentication and throttles; every tool call is audited and counted."""

from typing import Any

import pytest
from prometheus_client import REGISTRY

from innominatus.accounts.models import AuditEvent
from tests.mcp.mcp_helpers import McpHttp
from tests.workflows.api.factories import make_application, score

pytestmark = pytest.mark.django_db


def _calls(tool: str, outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("innominatus_mcp_tool_calls_total", {"tool": tool, "outcome": outcome}) or 0
    )


def test_anonymous_and_bad_keys_are_refused_like_the_api() -> None:
    anonymous = McpHttp(None).post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    forged = McpHttp(None, key="inn_not-a-key").post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert forged.status_code == 401


def test_the_api_throttles_apply(make_user: Any, settings: Any) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "user": "2/min"}
    mcp = McpHttp(make_user("dev"))
    answers = [mcp.post({"jsonrpc": "2.0", "id": n, "method": "tools/list"}).status_code for n in range(3)]
    assert answers == [200, 200, 429]


def test_every_tool_call_is_audited_with_secrets_masked_and_counted(make_user: Any) -> None:
    dev = make_user("dev")
    make_application(dev, "shop")
    mcp = McpHttp(dev)
    before_ok, before_error = _calls("validate_spec", "ok"), _calls("run_golden_path", "error")

    assert not mcp.call("validate_spec", spec=score("shop"))["isError"]
    refused = mcp.call(
        "run_golden_path",
        name="db-lifecycle",
        parameters={"app_name": "shop", "new_password": "hunter2-hunter2", "operation": "nonsense"},
    )
    assert refused["isError"]

    events = list(AuditEvent.objects.filter(action="mcp.tool_call").order_by("id"))
    assert [(e.object_id, e.username, e.status_code, e.auth_method) for e in events] == [
        ("validate_spec", "dev", 200, "api_key"),
        ("run_golden_path", "dev", 400, "api_key"),
    ]
    validate, run = (e.summary for e in events)
    assert validate["outcome"] == "ok" and validate["result"]["valid"] is True
    assert set(validate["arguments"]["spec"]) == {"bytes", "sha256"}
    assert run["outcome"] == "error" and run["error"]
    assert run["arguments"]["parameters"]["new_password"] == "***"
    assert "hunter2" not in str(run)
    assert _calls("validate_spec", "ok") == before_ok + 1
    assert _calls("run_golden_path", "error") == before_error + 1


def test_protocol_requests_are_audited_by_method_and_errors_show_no_traceback(make_user: Any) -> None:
    mcp = McpHttp(make_user("dev"))
    mcp.rpc("tools/list")
    event = AuditEvent.objects.get(action="mcp.request")
    assert (event.object_id, event.status_code) == ("tools/list", 200)
    unknown = mcp.call("no_such_tool")
    assert unknown["isError"] and unknown["structuredContent"]["status"] == 404
    bad = mcp.call("get_workflow_logs", id="wf-x", limit=100000)
    assert bad["isError"]
    assert bad["structuredContent"]["errors"][0]["path"] == "limit"
    assert "Traceback" not in str(bad)


def test_resources_and_prompts(make_user: Any) -> None:
    mcp = McpHttp(make_user("dev"))
    uris = {r["uri"] for r in mcp.rpc("resources/list")["result"]["resources"]}
    assert {"innominatus://score/schema", "innominatus://resource-types"} <= uris
    assert "innominatus://golden-paths/deploy-app" in uris
    schema = mcp.rpc("resources/read", {"uri": "innominatus://score/schema"})["result"]["contents"][0]
    assert '"containers"' in schema["text"]
    types = mcp.rpc("resources/read", {"uri": "innominatus://resource-types"})["result"]["contents"][0][
        "text"
    ]
    assert '"postgres"' in types and "password" in types
    doc = mcp.rpc("resources/read", {"uri": "innominatus://golden-paths/ephemeral-env"})["result"][
        "contents"
    ][0]
    assert "`ttl`" in doc["text"] and doc["mimeType"] == "text/markdown"
    prompts = {p["name"] for p in mcp.rpc("prompts/list")["result"]["prompts"]}
    assert prompts == {"deploy-my-service", "why-did-my-workflow-fail"}
    prompt = mcp.rpc("prompts/get", {"name": "why-did-my-workflow-fail", "arguments": {"workflow": "wf-1"}})
    assert "wf-1" in prompt["result"]["messages"][0]["content"]["text"]


def test_a_path_argument_cannot_reach_another_endpoint(make_user: Any) -> None:
    dev = make_user("dev")
    make_application(dev, "shop")
    mcp = McpHttp(dev)
    sneaky = mcp.call("get_application", name="shop/manifests")
    assert sneaky["isError"] and sneaky["structuredContent"]["status"] == 404
    assert not mcp.call("get_application", name="shop")["isError"]


def test_get_and_delete_are_not_allowed_on_a_stateless_server(make_user: Any) -> None:
    mcp = McpHttp(make_user("dev"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {mcp.key}"}
    assert mcp.client.get("/mcp", HTTP_ACCEPT="text/event-stream", **auth).status_code == 405
    assert mcp.client.delete("/mcp", **auth).status_code == 405
