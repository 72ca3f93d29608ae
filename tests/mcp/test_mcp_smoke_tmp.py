from tests.mcp.mcp_helpers import McpHttp
from tests.workflows.api.factories import score


def test_smoke(make_user):
    dev = make_user("dev")
    mcp = McpHttp(dev)
    print(mcp.tools())
    r = mcp.call("validate_spec", spec=score("hello"))
    print(r)
    r = mcp.call("validate_spec", spec="apiVersion: score.dev/v1b1\nmetadata: {}\n")
    print(r)
    r = mcp.call("plan_spec", spec=score("hello"))
    print(str(r)[:1500])
    r = mcp.call("list_applications")
    print(r)
    assert 0
