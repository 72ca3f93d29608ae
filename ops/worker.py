"""What runs beside each django-q2 worker process: heartbeat, worker metrics port and Pushgateway.

One daemon thread per worker process (started on q2's post_spawn):
- writes a heartbeat row every WORKER_HEARTBEAT_SECONDS, which /health reads from any replica; the
  row says since when the process has been idle (null while it runs a task), which is how /health
  tells a worker that makes no progress from one that is busy;
- when WORKER_METRICS_PORT is set, one process of the pod serves the pod's metrics (summed over
  PROMETHEUS_MULTIPROC_DIR) on that port; the others retry, so the port moves when its owner dies;
- when PUSHGATEWAY_URL is set, one process of the pod (elected by an flock) pushes the same
  metrics to the Pushgateway under job="innominatus-worker", instance=<host name>.
"""

import fcntl
import logging
import os
import socket
import tempfile
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from ops import buildinfo
from ops.metrics.exposition import exposition, multiprocess_dir, render

logger = logging.getLogger(__name__)

PUSH_JOB = "innominatus-worker"


class Activity:
    """Since when this worker process has been idle; None while it runs a task (q2 signals set it)."""

    idle_since: datetime | None = None


def mark_busy(**kwargs: Any) -> None:
    """q2 pre_execute: this process runs a task now."""
    Activity.idle_since = None


def mark_idle(**kwargs: Any) -> None:
    """q2 post_execute_in_worker (and spawn): this process waits for its next task."""
    Activity.idle_since = timezone.now()


class _MetricsHandler(BaseHTTPRequestHandler):
    """GET /metrics on the worker metrics port."""

    process_root: int = 0

    def do_GET(self) -> None:
        if self.path.split("?")[0] not in ("/metrics", "/metrics/"):
            self.send_error(404)
            return
        body = render(include_cluster=False, process_root=self.process_root)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # scrapes are not logged, like /metrics on the web port


class WorkerAgent(threading.Thread):
    """The per-process daemon thread described in the module docstring."""

    def __init__(self, *, interval: float | None = None) -> None:
        super().__init__(name="innominatus-worker-agent", daemon=True)
        self.interval = interval or settings.WORKER_HEARTBEAT_SECONDS
        self.stopped = threading.Event()
        self.hostname = socket.gethostname()
        # The worker master (or a q2 sentinel) is this process' parent: its tree holds the whole pod.
        self.process_root = os.getppid()
        self.server: ThreadingHTTPServer | None = None
        self._push_lock: IO[str] | None = None

    def run(self) -> None:
        while not self.stopped.is_set():
            self.tick()
            self.stopped.wait(self.interval)

    def tick(self) -> None:
        """One round: heartbeat, then try to own the metrics port and the push role."""
        self.heartbeat()
        if settings.WORKER_METRICS_PORT and self.server is None:
            self.serve_metrics(settings.WORKER_METRICS_PORT)
        if settings.PUSHGATEWAY_URL and self.holds_push_role():
            self.push()

    def heartbeat(self) -> None:
        from ops.models import WorkerHeartbeat

        try:
            connection.close_if_unusable_or_obsolete()
            WorkerHeartbeat.beat(
                hostname=self.hostname,
                pid=os.getpid(),
                cluster=str(settings.Q_CLUSTER.get("name", "")),
                version=buildinfo.version(),
                idle_since=Activity.idle_since,
            )
        except Exception:
            logger.warning("worker heartbeat failed", exc_info=True)
            connection.close()

    def serve_metrics(self, port: int) -> None:
        handler = type("Handler", (_MetricsHandler,), {"process_root": self.process_root})
        try:
            self.server = ThreadingHTTPServer((settings.WORKER_METRICS_ADDRESS, port), handler)
        except OSError:
            return  # another worker process of this pod serves the port; try again next round
        threading.Thread(target=self.server.serve_forever, name="worker-metrics", daemon=True).start()
        logger.info("serving worker metrics", extra={"port": port})

    def holds_push_role(self) -> bool:
        if self._push_lock is not None:
            return True
        path = Path(multiprocess_dir() or tempfile.gettempdir()) / "innominatus-pushgateway.lock"
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._push_lock = handle  # held for the life of the process; the kernel frees it on exit
        return True

    def push(self) -> None:
        from prometheus_client import push_to_gateway

        try:
            push_to_gateway(
                settings.PUSHGATEWAY_URL,
                job=PUSH_JOB,
                registry=exposition(include_cluster=False, process_root=self.process_root),
                grouping_key={"instance": self.hostname},
                timeout=10,
            )
        except Exception:
            logger.warning(
                "push to Pushgateway failed", exc_info=True, extra={"url": settings.PUSHGATEWAY_URL}
            )

    def stop(self) -> None:
        self.stopped.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


_agent: WorkerAgent | None = None


def start_agent(**kwargs: Any) -> WorkerAgent:
    """Start this process' agent once (q2 post_spawn receiver)."""
    global _agent
    mark_idle()
    if _agent is None or not _agent.is_alive():
        _agent = WorkerAgent()
        _agent.start()
    return _agent
