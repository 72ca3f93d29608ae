"""An MCP client over Django's test client: JSON-RPC POSTs to /mcp with a Bearer API key."""

import itertools
import json
from typing import Any

from django.test import Client

from innominatus.accounts import services

# A handshake-era protocol version: stateless requests need no initialize round trip.
PROTOCOL_VERSION = "2025-06-18"
_ids = itertools.count(1)


class McpHttp:
    """Speaks MCP to /mcp in-process, as the owner of an API key."""

    def __init__(self, user: Any | None, *, key: str | None = None) -> None:
        self.client = Client()
        self.key = key or (services.create_api_key(user=user, name="mcp").raw_key if user is not None else "")

    def post(self, payload: Any, **headers: str) -> Any:
        extra = {"HTTP_AUTHORIZATION": f"Bearer {self.key}"} if self.key else {}
        extra.update(
            {
                "HTTP_ACCEPT": "application/json, text/event-stream",
                "HTTP_MCP_PROTOCOL_VERSION": PROTOCOL_VERSION,
            }
        )
        extra.update(headers)
        return self.client.post("/mcp", data=json.dumps(payload), content_type="application/json", **extra)

    def rpc(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post({"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params or {}})
        assert response.status_code == 200, response.content
        body: dict[str, Any] = response.json()
        return body

    def tools(self) -> list[str]:
        return [tool["name"] for tool in self.rpc("tools/list")["result"]["tools"]]

    def call(self, tool: str, /, **arguments: Any) -> dict[str, Any]:
        body = self.rpc("tools/call", {"name": tool, "arguments": arguments})
        assert "result" in body, body
        result: dict[str, Any] = body["result"]
        return result
