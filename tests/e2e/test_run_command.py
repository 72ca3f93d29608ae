"""The README's first command boots the whole product on SQLite, and the API answers over HTTP."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import ROOT, free_port, wait_for_group_exit, wait_until

pytestmark = pytest.mark.e2e

SPEC = """\
apiVersion: score.dev/v1b1
metadata:
  name: smoke
containers:
  web:
    image: nginx:1.27
    variables:
      GREETING: hello from ${metadata.name}
service:
  ports:
    http: {port: 80, targetPort: 8080}
"""


def test_run_script_serves_the_api_on_sqlite_with_a_worker(tmp_path: Path) -> None:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DB_", "PYTEST", "KUBECONFIG", "KUBERNETES_", "Q_", "SECRET_KEY", "STEP_"))
    }
    env.update({"INNOMINATUS_DATA_DIR": str(tmp_path / "data"), "PORT": str(port), "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return requests.get(base + "/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout=240, interval=0.5, what="scripts/run.sh to serve /health")
        text = log.read_text()
        assert (tmp_path / "data" / "innominatus.sqlite3").exists(), "the embedded default is SQLite"
        assert re.search(r"username: admin", text) and re.search(r"password: \S+", text), text[-2000:]
        key = re.search(r"API key:\s+(\S+)", text)
        assert key, text[-2000:]
        headers = {"Authorization": f"Bearer {key.group(1)}"}

        created = requests.post(
            base + "/api/applications",
            data=SPEC,
            headers={**headers, "Content-Type": "application/yaml"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        execution_id = created.json()["execution"]

        def finished() -> dict | None:
            body = requests.get(f"{base}/api/workflows/{execution_id}", headers=headers, timeout=10).json()
            return body if body["status"] in ("completed", "failed", "cancelled") else None

        body = wait_until(finished, timeout=120, interval=0.5, what="the deploy to finish on the worker")
        assert body["status"] == "completed", body
        app = requests.get(base + "/api/applications/smoke", headers=headers, timeout=10).json()
        assert app["deploy_state"] == "rendered, not applied", app
        assert requests.get(base + "/api/applications", timeout=10).status_code in (401, 403)
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        if not wait_for_group_exit(child.pid, timeout=20):
            os.killpg(child.pid, signal.SIGKILL)
        time.sleep(0.2)
