"""/mcp: the Streamable HTTP endpoint of the MCP server (no trailing slash, like the API)."""

from django.urls import path

from innominatus.mcp.http import McpView

urlpatterns = [path("mcp", McpView.as_view(), name="mcp")]
