"""The MCP server: AI agents as API clients with the caller's identity, team scoping, throttles and audit.

Every tool is a call into the REST API's own view, made in-process with the caller's authenticated
user (see dispatch.py), so permissions, team scoping, validation and problem answers are the API's by
construction. http.py serves Streamable HTTP at /mcp; stdio.py proxies a desktop agent to it.
"""
