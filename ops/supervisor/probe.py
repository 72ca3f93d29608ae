"""The worker's liveness and readiness endpoints, served by its master on WORKER_PROBE_PORT.

Answers come from the master's memory (shared with its worker processes) and never touch the database,
so a database outage does not restart workers, and a probe cannot hang on a lock.
"""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


class Judged(Protocol):
    """What the probe asks: the master's (live, ready, reason)."""

    def health(self) -> tuple[bool, bool, str]: ...


class _Handler(BaseHTTPRequestHandler):
    master: Judged

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path not in ("/livez", "/readyz"):
            self.send_error(404)
            return
        live, ready, reason = self.master.health()
        ok = live if path == "/livez" else ready
        body = json.dumps({"live": live, "ready": ready, "message": reason}).encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # probes are not logged per request


class ProbeServer:
    """A small HTTP server on a daemon thread of the master."""

    def __init__(self, master: Judged, port: int) -> None:
        handler = type("ProbeHandler", (_Handler,), {"master": master})
        self.server = ThreadingHTTPServer((settings.WORKER_METRICS_ADDRESS, port), handler)
        self.server.daemon_threads = True

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="worker-probe", daemon=True).start()
        logger.info("serving worker probes", extra={"port": self.server.server_address[1]})

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
