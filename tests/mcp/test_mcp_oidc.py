"""/mcp accepts the OIDC tokens the API accepts, with the teams and role their claims map to."""

from typing import Any

import pytest

from innominatus.accounts.models import AuditEvent
from tests.accounts.conftest import Provider, admin_config, oidc, start_provider
from tests.mcp.mcp_helpers import McpHttp

__all__ = ["admin_config", "oidc", "start_provider"]


@pytest.mark.django_db
def test_an_oidc_token_acts_as_its_user(oidc: Provider, admin_config: Any) -> None:
    admin_config("oidc:\n  teamMapping:\n    search: search\n")
    oidc.set_user(
        "sub-carol", {"preferred_username": "carol", "email": "c@example.com", "groups": ["search"]}
    )
    mcp = McpHttp(None, key=oidc.tokens_for("sub-carol")["id_token"])
    listed = mcp.call("list_applications")
    assert not listed["isError"], listed
    event = AuditEvent.objects.get(action="mcp.tool_call")
    assert (event.username, event.auth_method) == ("carol", "oidc_token")
    assert (
        McpHttp(None, key="not-a-valid-jwt")
        .post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        .status_code
        == 401
    )
