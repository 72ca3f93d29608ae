"""gunicorn configuration: port and workers from the environment, graceful shutdown, JSON logs and
multi-process Prometheus metrics (see docs/configuration.md and docs/monitoring.md)."""

import os
import time
from typing import Any

from innominatus import metricsdir
from innominatus.env import Env

env = Env()

_address = env.str("BIND_ADDRESS", "0.0.0.0")  # noqa: S104 - a server listens  # nosec B104
bind = f"{_address}:{env.int('PORT', 8081, minimum=1, maximum=65535)}"
workers = env.int("GUNICORN_WORKERS", 2, minimum=1, maximum=64)
# Threads, not one request per process: an open event stream holds a thread for as long as the client
# listens, and a slow list request holds one for its duration; with 48 threads per process and at most
# EVENTS_MAX_STREAMS (32) streams, at least 16 threads per process stay for ordinary requests and the
# probes (/health, /livez, /ready), which so never queue behind slow requests or streams. Idle threads
# hold no database connection (streams close theirs between reads). See docs/operations.md.
worker_class = env.choice("GUNICORN_WORKER_CLASS", "gthread", {"gthread", "sync"})
threads = env.int("GUNICORN_THREADS", 48, minimum=1, maximum=256)
timeout = env.int("GUNICORN_TIMEOUT", 60, minimum=1)
# Running requests get this long to finish after SIGTERM before workers are killed.
graceful_timeout = env.int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
keepalive = 5
max_requests = env.int("GUNICORN_MAX_REQUESTS", 0, minimum=0)
max_requests_jitter = max_requests // 10
worker_tmp_dir = env.str("GUNICORN_WORKER_TMP_DIR") or None

# Before any worker imports prometheus_client: every worker writes its samples to this directory and
# /metrics sums them, whichever worker answers the scrape.
metrics_dir = metricsdir.configure(env)

# Logs: the same JSON (or console) lines as the application, on stdout. Django's access line
# (logger innominatus.access, with request id and user) is the one access log; gunicorn's own access
# log is off unless GUNICORN_ACCESS_LOG=true, and then it skips the probes as well.
_log_format = env.choice("LOG_FORMAT", "json", {"json", "console"})
_log_level = env.choice("LOG_LEVEL", "info", {"debug", "info", "warning", "error", "critical"})
_access_log = env.bool("GUNICORN_ACCESS_LOG", False)
loglevel = _log_level
accesslog = None
errorlog = "-"
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "ops.logging.JsonFormatter"},
        "console": {"()": "ops.logging.ConsoleFormatter"},
    },
    "filters": {
        "context": {"()": "innominatus.logcontext.ContextFilter"},
        "redact": {"()": "ops.logging.RedactSecretsFilter"},
        "access": {"()": "ops.logging.GunicornAccessFilter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": _log_format,
            "filters": ["context", "redact"],
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"level": str(_log_level).upper(), "handlers": ["stdout"]},
    "loggers": {
        "gunicorn.error": {"level": str(_log_level).upper(), "handlers": ["stdout"], "propagate": False},
        "gunicorn.access": {
            "level": "INFO" if _access_log else "WARNING",
            "handlers": ["stdout"],
            "filters": ["access"],
            "propagate": False,
        },
    },
}


def on_starting(server: Any) -> None:
    """Master start: record the start time and master pid for workers, drop samples of dead processes."""
    os.environ["INNOMINATUS_STARTED_AT"] = str(time.time())
    os.environ["INNOMINATUS_MASTER_PID"] = str(os.getpid())
    if metrics_dir:
        removed = metricsdir.remove_dead_process_files(metrics_dir)
        if removed:
            server.log.info("removed %d metrics files of processes that no longer run", len(removed))


def post_worker_init(worker: Any) -> None:
    """SIGTERM ends this worker's open event streams at once, then gunicorn's graceful stop runs: the
    streams' clients reconnect elsewhere (with Last-Event-ID) instead of holding the stop for
    graceful_timeout."""
    import signal

    graceful = signal.getsignal(signal.SIGTERM)

    def on_term(signum: int, frame: Any) -> None:
        from workflows.events.hub import stop_streams

        stop_streams()
        if callable(graceful):
            graceful(signum, frame)

    signal.signal(signal.SIGTERM, on_term)


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended: its live gauges must stop counting (its counters stay in the totals)."""
    if metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)
