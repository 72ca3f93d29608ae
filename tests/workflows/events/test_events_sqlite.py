"""The embedded SQLite default: triggers write the events and a web process finds them by polling
(no LISTEN/NOTIFY there). Runs in a child process with its own SQLite database."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, time
from rest_framework.test import APIClient
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from innominatus.accounts.models import Team
from workflows.events.hub import hub
from workflows.models import Application, StepExecution, StepLog, WorkflowExecution

team = Team.objects.create(name="team-a")
user = get_user_model().objects.create_user("dev", password="x")
user.groups.add(Group.objects.get_or_create(name="developer")[0])
team.members.add(user)
client = APIClient()
client.force_authenticate(user)
start = client.get("/api/events").json()["last_id"]
app = Application.objects.create(name="lite", team=team)
execution = WorkflowExecution.objects.create(app_name="lite", application=app, team=team, workflow_name="w", definition={})
step = StepExecution.objects.create(execution=execution, name="s", step_type="noop", position=0)
execution.start()
step.transition("running")
StepLog.objects.create(execution=execution, step=step, seq=1, message="hello")
step.transition("completed")
execution.finish("completed")
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    page = client.get(f"/api/events?after={start}&logs=true").json()
    if any(event["type"] == "execution.succeeded" for event in page["results"]):
        break
    time.sleep(0.1)
print("RESULT " + json.dumps({"types": [e["type"] for e in page["results"]],
                              "lines": [e["data"] for e in page["results"] if e["type"] == "step.log"],
                              "vendor": __import__("django.db").db.connection.vendor}))
hub().close()
"""


def test_events_on_sqlite_are_found_by_polling(tmp_path: Path) -> None:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("DB_", "PYTEST", "REDIS_URL"))
    }
    env.update(
        {
            "INNOMINATUS_DATA_DIR": str(tmp_path),
            "SECRET_KEY": "sqlite-events-test",
            "ALLOWED_HOSTS": "testserver",
            "EVENTS_POLL_SECONDS": "0.1",
            "LOG_LEVEL": "warning",
            "Q_SYNC": "true",
            "DJANGO_SETTINGS_MODULE": "innominatus.settings",
        }
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300)
    shell = subprocess.run(
        [*manage, "shell", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    results = [line for line in shell.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, shell.stdout + shell.stderr
    found = json.loads(results[0].removeprefix("RESULT "))
    assert found["vendor"] == "sqlite"
    assert found["types"] == [
        "application.created",
        "execution.created",
        "execution.started",
        "step.started",
        "step.log",
        "step.succeeded",
        "execution.succeeded",
    ]
    assert found["lines"] == [{"lines": [{"n": 1, "stream": "stdout", "text": "hello"}]}]
