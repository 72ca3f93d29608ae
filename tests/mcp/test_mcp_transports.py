"""Both transports against a real gunicorn and a real worker, driven by the MCP SDK's own client."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from innominatus.accounts import services
from innominatus.accounts.models import AuditEvent
from tests.e2e.conftest import ROOT, Processes, _answers, free_port, wait_until
from tests.fakekube import FakeKube
from tests.mcp.mcp_scenario import journey

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture
def server(
    processes: Processes, fake_kube: FakeKube, fake_kubeconfig: Path, make_user: Callable[..., Any]
) -> tuple[str, str, FakeKube]:
    """gunicorn and a worker talking to the fake cluster, and a developer's API key."""
    env = {"KUBECONFIG": str(fake_kubeconfig)}
    processes.worker("worker", workers=2, extra_env=env)
    processes.env.update(env)
    url = _gunicorn(processes)
    key = services.create_api_key(user=make_user("dev"), name="agent").raw_key
    return url, key, fake_kube


def _gunicorn(processes: Processes) -> str:
    """Like Processes.gunicorn, with a start-up allowance for a machine shared with other test runs."""
    port = free_port()
    processes.start(
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:innominatus.gunicorn_conf",
        "innominatus.wsgi",
        name=f"gunicorn-{port}",
        extra_env={"PORT": str(port), "BIND_ADDRESS": "127.0.0.1", "GUNICORN_WORKERS": "2"},
    )
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: _answers(url), timeout=120, what="gunicorn to answer")
    return url


def _audited_tools() -> set[str]:
    return set(AuditEvent.objects.filter(action="mcp.tool_call").values_list("object_id", flat=True))


def test_streamable_http_journey(server: tuple[str, str, FakeKube]) -> None:
    url, key, fake = server
    fake.exceed_deadline("broken-http", "team-a-broken-http")

    async def run() -> None:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
        transport = streamable_http_client(f"{url}/mcp", http_client=http)
        async with http, Client(transport, cache=None) as client:
            await journey(client, "hello-http", "broken-http")

    anyio.run(run)
    assert {
        "validate_spec",
        "plan_spec",
        "deploy_spec",
        "get_workflow",
        "run_golden_path",
    } <= _audited_tools()


def test_stdio_journey(server: tuple[str, str, FakeKube]) -> None:
    url, key, fake = server
    fake.exceed_deadline("broken-stdio", "team-a-broken-stdio")
    parameters = StdioServerParameters(
        command=sys.executable,
        # The product path a desktop agent configures: `innominatus-ctl mcp` with the user's credentials.
        args=["-m", "innominatus.cli", "--server", url, "mcp"],
        env={"INNOMINATUS_TOKEN": key, "PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        cwd=str(ROOT),
    )

    async def run() -> None:
        async with Client(parameters, cache=None) as client:
            await journey(client, "hello-stdio", "broken-stdio")

    anyio.run(run)
    assert "deploy_spec" in _audited_tools()

    refused = subprocess.run(
        [sys.executable, "-m", "innominatus.cli", "--server", url, "mcp"],
        env={**parameters.env, "INNOMINATUS_TOKEN": "inn_revoked-or-wrong"},  # type: ignore[dict-item]
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "HTTP 401: the server refused the credentials" in refused.stderr, refused.stderr


def test_stdio_without_a_token_or_a_server_says_what_is_wrong() -> None:
    env = {k: v for k, v in os.environ.items() if k != "INNOMINATUS_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "innominatus.mcp.stdio", "--server", "http://127.0.0.1:9"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0 and "INNOMINATUS_TOKEN" in done.stderr
    unreachable = subprocess.run(
        [sys.executable, "-m", "innominatus.mcp.stdio", "--server", "http://127.0.0.1:9"],
        env={**env, "INNOMINATUS_TOKEN": "inn_x"},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unreachable.returncode != 0 and "Traceback" not in unreachable.stderr
    assert "http://127.0.0.1:9/mcp failed: ConnectError" in unreachable.stderr
