"""The README's first command boots the whole product on SQLite, the API answers over HTTP, the docs'
manage.py commands work there as written, and `kill` of the script stops web and worker with it."""

import contextlib
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

SPEC = ROOT / "examples" / "score.yaml"
# The manage.py commands the docs give for a local installation (changepassword asks on a terminal).
LOCAL_COMMANDS = (
    ("backup", "--output-dir", "{data}/backups"),
    ("cleanup", "--dry-run"),
    ("workflows", "stuck"),
    ("check",),
)


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, whatever process group it is in."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            living.add(pid)
    return living


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
            data=SPEC.read_bytes(),
            headers={**headers, "Content-Type": "application/yaml"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        execution_id = created.json()["execution"]

        def finished() -> dict | None:
            body = requests.get(f"{base}/api/workflows/{execution_id}", headers=headers, timeout=10).json()
            return body if body["status"] in ("completed", "failed", "cancelled") else None

        body = wait_until(finished, timeout=120, interval=0.5, what="the deploy to finish on the worker")
        assert body["status"] == "completed" and body["outcome"] == "rendered_only", body
        assert execution_id.startswith("wf-"), created.json()
        app = requests.get(base + "/api/applications/hello-world", headers=headers, timeout=10).json()
        assert app["deploy_state"] == "rendered" and app["applied"] is False, app
        assert app["deploy_state_label"] == "rendered, not applied", app
        assert requests.get(base + "/api/applications", timeout=10).status_code in (401, 403)

        # The docs' manage.py commands, as a newcomer types them: no SECRET_KEY in the shell.
        command_env = {k: v for k, v in env.items() if k not in ("PORT", "PROMETHEUS_MULTIPROC_DIR")}
        for command in LOCAL_COMMANDS:
            argv = [part.format(data=tmp_path / "data") for part in command]
            result = subprocess.run(
                [str(ROOT / ".venv" / "bin" / "python"), "manage.py", *argv],
                cwd=ROOT,
                env=command_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 0, f"manage.py {' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
        assert [p.name for p in (tmp_path / "data" / "backups").iterdir()]
        assert list((tmp_path / "data" / "metrics").glob("*.db")), "metrics live in this installation's data"

        # `kill <script pid>`: the script's own stop takes web and worker with it.
        running = descendants(child.pid)
        assert len(running) >= 3, running
        os.kill(child.pid, signal.SIGTERM)
        child.wait(timeout=60)
        wait_until(lambda: not alive(running), timeout=60, interval=0.2, what=f"{alive(running)} to exit")
        assert "stopping the web server and the worker" in log.read_text()
    finally:
        # Web and worker run in process groups of their own: on a failure, stop them by pid too.
        leftover = descendants(child.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
        if not wait_for_group_exit(child.pid, timeout=20):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        for pid in alive(leftover):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
