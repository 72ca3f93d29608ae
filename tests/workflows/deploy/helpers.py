"""Helpers for deploy tests: Score samples, submission, and readable failure reports."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from tests.fakekube import FakeKube
from workflows.models import Application, NamespaceClaim, WorkflowExecution
from workflows.services import submit_spec

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "score"


def sample(name: str) -> str:
    """The text of a Score sample."""
    return (SAMPLES / name).read_text()


def submit(user: Any, text: str, **options: Any) -> Any:
    """Submit a spec through the service (a deploy runs inline: django-q2 is in sync mode)."""
    return submit_spec(text=text, content_type="application/yaml", user=user, **options)


def last_execution(app_name: str, workflow: str = "deploy-app") -> WorkflowExecution:
    """The newest execution of a workflow for an application."""
    found = (
        WorkflowExecution.objects.filter(app_name=app_name, workflow_name=workflow)
        .order_by("-created_at")
        .first()
    )
    assert found is not None, f"no {workflow} execution for {app_name}"
    return found


def failure_report(execution: WorkflowExecution) -> str:
    """Every step's status and error plus the log, for assertion messages."""
    lines = [f"{execution.pk} {execution.status}: {execution.error_message}"]
    for step in execution.steps.order_by("position"):
        lines.append(f"  {step.name} {step.status} {step.error_message}")
    lines += [f"    {log.message}" for log in execution.logs.order_by("id")]
    return "\n".join(lines)


def ns(app_name: str) -> str:
    """The namespace innominatus claimed for an application (<team>-<application>)."""
    return str(NamespaceClaim.objects.get(app_name=app_name, environment="").name)


def application(name: str) -> Application:
    """An application re-read from the database."""
    return Application.objects.get(name=name)


def env_of(fake: FakeKube, app: str, container: str | None = None) -> dict[str, Any]:
    """The env entries of a workload's container, by name."""
    deployment = fake.get_object("Deployment", app, ns(app))
    assert deployment is not None, f"no Deployment {app}/{app}"
    containers = deployment["spec"]["template"]["spec"]["containers"]
    chosen = next(c for c in containers if container is None or c["name"] == container)
    return {entry["name"]: entry for entry in chosen.get("env", [])}


def secret_value(fake: FakeKube, namespace: str, ref: dict[str, Any]) -> str:
    """The decoded value a secretKeyRef points at in the fake cluster."""
    key_ref = ref["valueFrom"]["secretKeyRef"]
    secret = fake.get_object("Secret", key_ref["name"], namespace)
    assert secret is not None
    data = secret.get("data") or {}
    if key_ref["key"] in data:
        return base64.b64decode(data[key_ref["key"]]).decode()
    return str(secret["stringData"][key_ref["key"]])
