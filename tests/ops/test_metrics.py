"""Metrics in one process: signal receivers, HTTP route labels, derived and cluster-wide gauges."""

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from ops import buildinfo
from ops.metrics.http import route_template
from workflows import signals
from workflows.models import ResourceInstance, StepExecution, WorkflowExecution

DOCUMENTED = [
    "innominatus_uptime_seconds",
    "innominatus_workflows_executed_total",
    "innominatus_workflows_succeeded_total",
    "innominatus_workflows_failed_total",
    "innominatus_workflow_duration_seconds_avg",
    "innominatus_db_queries_total",
    "innominatus_db_query_errors_total",
    "innominatus_build_info",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.mark.django_db
def test_execution_signals_move_the_workflow_counters_and_histogram() -> None:
    before = {
        name: value(name)
        for name in (
            "innominatus_workflows_started_total",
            "innominatus_workflows_executed_total",
            "innominatus_workflows_succeeded_total",
            "innominatus_workflows_failed_total",
        )
    }
    completed_before = value("innominatus_workflow_duration_seconds_count", status="completed")
    done = WorkflowExecution.objects.create(
        app_name="a", workflow_name="metrics", status="completed", definition={}
    )
    failed = WorkflowExecution.objects.create(
        app_name="a", workflow_name="metrics", status="failed", definition={}
    )
    signals.execution_started.send(
        WorkflowExecution, execution_id=done.id, app_name="a", workflow_name="metrics"
    )
    signals.execution_finished.send(WorkflowExecution, execution=done, status="completed", duration=12.5)
    signals.execution_finished.send(WorkflowExecution, execution=failed, status="failed", duration=3.0)
    assert value("innominatus_workflows_started_total") == before["innominatus_workflows_started_total"] + 1
    assert value("innominatus_workflows_executed_total") == before["innominatus_workflows_executed_total"] + 2
    assert (
        value("innominatus_workflows_succeeded_total") == before["innominatus_workflows_succeeded_total"] + 1
    )
    assert value("innominatus_workflows_failed_total") == before["innominatus_workflows_failed_total"] + 1
    assert value("innominatus_workflow_duration_seconds_count", status="completed") == completed_before + 1
    assert value("innominatus_workflow_duration_seconds_bucket", status="completed", le="15.0") >= 1


def test_step_and_resource_signals_move_the_orchestration_metrics() -> None:
    step = SimpleNamespace(step_type="terraform")
    before = value("innominatus_step_duration_seconds_count", type="terraform", status="completed")
    signals.step_finished.send(StepExecution, step=step, status="completed", duration=42.0)
    assert (
        value("innominatus_step_duration_seconds_count", type="terraform", status="completed") == before + 1
    )

    resource = SimpleNamespace(provider="builtin-postgres", resource_type="postgres")
    labels = {"provider": "builtin-postgres", "type": "postgres"}
    provisioned = value("innominatus_resource_provisioning_duration_seconds_count", **labels)
    failures = value("innominatus_resource_provisioning_failures_total", **labels)
    signals.resource_transitioned.send(
        ResourceInstance, resource=resource, from_state="provisioning", to_state="active", duration=8.0
    )
    signals.resource_transitioned.send(
        ResourceInstance, resource=resource, from_state="provisioning", to_state="failed", duration=1.0
    )
    # Not provisioning: an active resource being torn down is neither a duration nor a failure.
    signals.resource_transitioned.send(
        ResourceInstance, resource=resource, from_state="active", to_state="terminating", duration=None
    )
    assert value("innominatus_resource_provisioning_duration_seconds_count", **labels) == provisioned + 1
    assert value("innominatus_resource_provisioning_failures_total", **labels) == failures + 1


def test_a_broken_event_never_breaks_the_sender(caplog: Any) -> None:
    responses = signals.resource_transitioned.send(
        ResourceInstance, resource=object(), from_state="provisioning", to_state="failed", duration=None
    )
    assert responses and "metrics receiver failed" in caplog.text


@pytest.mark.parametrize(
    ("route", "template"),
    [
        ("api/workflows/(?P<id>[^/]+)$", "/api/workflows/{id}"),
        ("admin/auth/user/<path:object_id>/change/", "/admin/auth/user/{object_id}/change/"),
        ("^api/(?:v1/)?items/(?P<pk>[0-9]+)/(\\d+)$", "/api/items/{pk}/{param}"),
        ("health", "/health"),
        ("api/<int:pk>.json", "/api/{pk}.json"),
    ],
)
def test_route_templates_never_carry_raw_values(route: str, template: str) -> None:
    assert route_template(route) == template


@pytest.mark.django_db
def test_http_requests_are_counted_by_route_template_and_5xx_as_errors(
    client: Client, monkeypatch: Any
) -> None:
    from ops import maintenance

    route = {"method": "GET", "route": "/api/workflows/{id}"}
    not_found = value("innominatus_http_requests_total", status="401", **route) + value(
        "innominatus_http_requests_total", status="404", **route
    )
    client.get("/api/workflows/wf-does-not-exist")
    after = value("innominatus_http_requests_total", status="401", **route) + value(
        "innominatus_http_requests_total", status="404", **route
    )
    assert after == not_found + 1
    unmatched = value("innominatus_http_requests_total", method="GET", route="<unmatched>", status="404")
    client.get("/no/such/page/12345")
    assert (
        value("innominatus_http_requests_total", method="GET", route="<unmatched>", status="404")
        == unmatched + 1
    )

    errors = value("innominatus_http_errors_total", status="503", **route)
    with maintenance.hold():
        assert client.get("/api/workflows/wf-x").status_code == 503
    assert value("innominatus_http_errors_total", status="503", **route) == errors + 1


@pytest.mark.django_db
def test_metrics_page_has_the_documented_names_and_db_aliases_move(client: Client) -> None:
    first = scrape(client)
    names = {name for name, _ in first}
    for name in DOCUMENTED:
        assert name in names, name
    queries = sample(first, "innominatus_db_queries_total")
    WorkflowExecution.objects.count()
    assert sample(scrape(client), "innominatus_db_queries_total") > queries
    info = next(labels for name, labels in first if name == "innominatus_build_info")
    assert dict(info)["version"] == buildinfo.version()


def test_build_commit_comes_from_git_commit_and_is_never_hard_coded(settings: Any) -> None:
    buildinfo.commit.cache_clear()
    settings.GIT_COMMIT = "0123456789ab"
    try:
        assert buildinfo.commit() == "0123456789ab"
    finally:
        buildinfo.commit.cache_clear()
    settings.GIT_COMMIT = ""
    try:
        assert buildinfo.commit() != "0123456789ab"
        assert buildinfo.commit() == "unknown" or len(buildinfo.commit()) == 12
    finally:
        buildinfo.commit.cache_clear()


@pytest.mark.django_db
def test_cluster_gauges_count_active_work_from_the_database(client: Client) -> None:
    now = timezone.now()
    old = WorkflowExecution.objects.create(
        app_name="a", workflow_name="w", status="running", definition={}, started_at=now - timedelta(hours=3)
    )
    WorkflowExecution.objects.create(
        app_name="a", workflow_name="w", status="running", definition={}, started_at=now
    )
    WorkflowExecution.objects.create(app_name="a", workflow_name="w", status="completed", definition={})
    StepExecution.objects.create(
        execution=old,
        name="s",
        step_type="script",
        position=0,
        status="running",
        lease_expires_at=now - timedelta(minutes=1),
    )
    ResourceInstance.objects.create(
        app_name="a", resource_name="db", resource_type="postgres", state="requested"
    )
    ResourceInstance.objects.create(
        app_name="a", resource_name="db2", resource_type="postgres", state="provisioning"
    )
    ResourceInstance.objects.create(app_name="a", resource_name="c", resource_type="redis", state="active")

    samples = scrape(client)
    cluster = {"scope": "cluster"}
    assert sample(samples, "innominatus_cluster_metrics_up", **cluster) == 1
    assert sample(samples, "innominatus_workflow_executions_running", **cluster) == 2
    assert sample(samples, "innominatus_workflow_executions", status="running", **cluster) == 2
    assert sample(samples, "innominatus_workflow_executions", status="pending", **cluster) == 0
    assert sample(samples, "innominatus_workflow_oldest_running_seconds", **cluster) >= 3 * 3600
    assert sample(samples, "innominatus_steps_lease_expired", **cluster) == 1
    assert sample(samples, "innominatus_resources_pending", type="postgres", **cluster) == 2
    assert ("innominatus_resources_pending", frozenset({"type": "redis", **cluster}.items())) not in samples
    assert sample(samples, "innominatus_queue_depth", **cluster) == 0
    assert sample(samples, "innominatus_steps_waiting_too_long", **cluster) == 0


@pytest.mark.django_db
@override_settings(WORKER_STALL_SECONDS=30)
def test_queue_depth_counts_only_claimable_messages_and_waiting_steps_are_gauged(client: Client) -> None:
    from django_q.models import OrmQ

    now = timezone.now()
    OrmQ.objects.create(key="innominatus", payload="a", lock=now - timedelta(seconds=50))
    OrmQ.objects.create(key="innominatus", payload="b", lock=now)
    # Held by a worker (maybe a killed one) until its retry time: not claimable work.
    OrmQ.objects.create(key="innominatus", payload="c", lock=now + timedelta(minutes=61))
    execution = WorkflowExecution.objects.create(
        app_name="a", workflow_name="w", status="running", definition={}, started_at=now
    )
    for position, age in enumerate((120, 5)):
        StepExecution.objects.create(
            execution=execution,
            name=f"s{position}",
            step_type="noop",
            position=position,
            status="pending",
            dispatched_at=now - timedelta(seconds=age),
        )
    samples = scrape(client)
    cluster = {"scope": "cluster"}
    assert sample(samples, "innominatus_queue_depth", **cluster) == 2
    assert sample(samples, "innominatus_queue_taken", **cluster) == 1
    assert 50 <= sample(samples, "innominatus_queue_oldest_wait_seconds", **cluster) < 120
    assert sample(samples, "innominatus_steps_waiting_too_long", **cluster) == 1
