"""Cluster-wide gauges read from the database at scrape time, labelled scope="cluster".

Every web replica reports the same values: aggregate them with max(), never sum(). Each query is
served by an index and touches only active rows, so a scrape stays cheap with millions of
finished executions and log lines; a statement timeout keeps a slow database from hanging /metrics.
"""

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ops.models import WorkerHeartbeat
from workflows.choices import EXECUTION_ACTIVE_STATUSES, ExecutionStatus, ResourceState, StepStatus
from workflows.models import ResourceInstance, StepExecution, WorkflowExecution
from workflows.services.backlog import claimable_messages, oldest_message_wait, waiting_steps

logger = logging.getLogger(__name__)

SCOPE = {"scope": "cluster"}
STATEMENT_TIMEOUT_MS = 2000
WORKER_SEEN_SECONDS = 60
_PENDING_RESOURCE_STATES = (ResourceState.REQUESTED, ResourceState.PROVISIONING)


def _gauge(name: str, documentation: str, value: float, **labels: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[*SCOPE, *labels])
    family.add_metric([*SCOPE.values(), *labels.values()], value)
    return family


def _cluster_families() -> list[GaugeMetricFamily]:
    from django_q.models import OrmQ

    now = timezone.now()
    families: list[GaugeMetricFamily] = []

    executions = GaugeMetricFamily(
        "innominatus_workflow_executions",
        "Workflow executions in an active status.",
        labels=["scope", "status"],
    )
    by_status = dict(
        WorkflowExecution.objects.filter(status__in=EXECUTION_ACTIVE_STATUSES)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    for status in sorted(EXECUTION_ACTIVE_STATUSES):
        executions.add_metric(["cluster", str(status)], by_status.get(status, 0))
    families.append(executions)
    families.append(
        _gauge(
            "innominatus_workflow_executions_running",
            "Workflow executions running now.",
            by_status.get(ExecutionStatus.RUNNING, 0),
        )
    )

    oldest = WorkflowExecution.objects.filter(status=ExecutionStatus.RUNNING).aggregate(
        first=Min("started_at")
    )
    age = (now - oldest["first"]).total_seconds() if oldest["first"] else 0.0
    families.append(
        _gauge(
            "innominatus_workflow_oldest_running_seconds",
            "Age of the oldest running workflow execution (0 when none runs).",
            age,
        )
    )
    expired = StepExecution.objects.filter(status=StepStatus.RUNNING, lease_expires_at__lt=now).order_by()
    families.append(
        _gauge(
            "innominatus_steps_lease_expired",
            "Running steps whose worker lease has expired (the reaper should recover them).",
            expired.count(),
        )
    )
    families.append(
        _gauge(
            "innominatus_workflows_stuck",
            "Executions with a running step whose lease expired (`manage.py workflows stuck` lists them).",
            expired.values("execution_id").distinct().count(),
        )
    )

    pending = GaugeMetricFamily(
        "innominatus_resources_pending",
        "Resources requested or provisioning, by resource type.",
        labels=["scope", "type"],
    )
    for resource_type, count in (
        ResourceInstance.objects.filter(state__in=_PENDING_RESOURCE_STATES)
        .order_by()
        .values_list("resource_type")
        .annotate(n=Count("id"))
    ):
        pending.add_metric(["cluster", resource_type], count)
    families.append(pending)

    claimable = claimable_messages(now)
    families.append(
        _gauge(
            "innominatus_queue_depth",
            "Tasks in the django-q2 queue that a worker may take now (messages held by a worker excluded).",
            claimable.count(),
        )
    )
    families.append(
        _gauge(
            "innominatus_queue_taken",
            "Tasks in the django-q2 queue held by a worker (running, or held by a dead one until retry).",
            OrmQ.objects.filter(lock__gt=now).count(),
        )
    )
    families.append(
        _gauge(
            "innominatus_queue_oldest_wait_seconds",
            "Seconds the oldest claimable task has waited (0 when none waits).",
            oldest_message_wait(now),
        )
    )
    stall = float(settings.WORKER_STALL_SECONDS)
    families.append(
        _gauge(
            "innominatus_steps_waiting_too_long",
            f"Ready steps queued longer than WORKER_STALL_SECONDS ({stall:.0f} s) that no worker has taken.",
            waiting_steps(stall, now).count(),
        )
    )
    families.append(
        _gauge(
            "innominatus_workers_alive",
            f"Worker processes that sent a heartbeat in the last {WORKER_SEEN_SECONDS} seconds.",
            WorkerHeartbeat.objects.filter(
                last_seen__gte=now - timedelta(seconds=WORKER_SEEN_SECONDS)
            ).count(),
        )
    )
    return families


class ClusterCollector(Collector):
    """Collects the cluster-wide gauges; reports innominatus_cluster_metrics_up 0 when it cannot."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
                families = _cluster_families()
        except Exception:
            logger.warning("cluster metrics unavailable", exc_info=True)
            families = []
        yield from families
        yield _gauge(
            "innominatus_cluster_metrics_up",
            "Whether the cluster-wide gauges could be read from the database.",
            1.0 if families else 0.0,
        )
