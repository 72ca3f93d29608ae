"""Every metric this process records. Label values come from bounded sets (routes, types, providers).

In multi-process mode (PROMETHEUS_MULTIPROC_DIR) counters and histograms are summed over the
processes that share the directory; gauges say how to combine in `multiprocess_mode`.
"""

from prometheus_client import Counter, Gauge, Histogram

# Workflows run for seconds to hours.
WORKFLOW_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, float("inf"))
# Steps and provisioning are shorter on average but can wait minutes for a rollout or terraform.
STEP_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))

WORKFLOWS_STARTED = Counter("innominatus_workflows_started", "Workflow executions that started running.")
WORKFLOWS_EXECUTED = Counter(
    "innominatus_workflows_executed", "Workflow executions that finished (completed, failed or cancelled)."
)
WORKFLOWS_SUCCEEDED = Counter("innominatus_workflows_succeeded", "Workflow executions that completed.")
WORKFLOWS_FAILED = Counter("innominatus_workflows_failed", "Workflow executions that failed.")
WORKFLOWS_CANCELLED = Counter("innominatus_workflows_cancelled", "Workflow executions that were cancelled.")
WORKFLOW_DURATION = Histogram(
    "innominatus_workflow_duration_seconds",
    "Duration of finished workflow executions, from start to end.",
    ["status"],
    buckets=WORKFLOW_BUCKETS,
)
STEP_DURATION = Histogram(
    "innominatus_step_duration_seconds",
    "Duration of finished steps by step type and final status.",
    ["type", "status"],
    buckets=STEP_BUCKETS,
)
PROVISIONING_DURATION = Histogram(
    "innominatus_resource_provisioning_duration_seconds",
    "Time a resource spent provisioning (or updating) before it became active, by provider and type.",
    ["provider", "type"],
    buckets=STEP_BUCKETS,
)
PROVISIONING_FAILURES = Counter(
    "innominatus_resource_provisioning_failures",
    "Resources whose provisioning or update failed, by provider and type.",
    ["provider", "type"],
)
HTTP_REQUESTS = Counter(
    "innominatus_http_requests",
    "HTTP requests by method, route template (never the raw path) and status code.",
    ["method", "route", "status"],
)
HTTP_ERRORS = Counter(
    "innominatus_http_errors",
    "HTTP responses with a 5xx status, by method, route template and status code.",
    ["method", "route", "status"],
)
HEALTH_CHECK_LATENCY = Gauge(
    "innominatus_health_check_latency_ms",
    "Latency of the last health check of each component, in milliseconds.",
    ["component"],
    multiprocess_mode="mostrecent",
)
HEALTH_CHECK_STATUS = Gauge(
    "innominatus_health_check_status",
    "Result of the last health check of each component: 1 healthy, 0.5 degraded, 0 unhealthy.",
    ["component"],
    multiprocess_mode="mostrecent",
)
PROVIDERS_DISABLED = Gauge(
    "innominatus_providers_disabled",
    "Providers that are not served: broken (tolerant loading), unsupported or switched off in admin-config.",
    multiprocess_mode="mostrecent",
)
