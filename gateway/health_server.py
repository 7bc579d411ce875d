"""One small HTTP port: `/healthz` (JSON, 200 or 503) and `/metrics` (Prometheus text).

It only reads what the service exposes through two callables, so it knows
nothing of MQTT or InfluxDB.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("emberwatch.gateway.health")

# A connection that sends nothing (or stalls mid-request) is dropped after this long, so
# idle or hostile clients cannot hold the server's threads forever.
REQUEST_TIMEOUT_S = 5.0


class HealthServer:
    def __init__(self, host: str, port: int, health: Callable[[], tuple[bool, dict]],
                 metrics: Callable[[], str], timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        handler = _handler(health, metrics, timeout_s)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), name="gateway-health", daemon=True)

    def start(self) -> None:
        self._thread.start()
        log.info("health and metrics on port %d", self.port)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


def _handler(health: Callable[[], tuple[bool, dict]], metrics: Callable[[], str],
             timeout_s: float = REQUEST_TIMEOUT_S) -> type:
    class Handler(BaseHTTPRequestHandler):
        timeout = timeout_s  # socket timeout for every read and write of this connection
        def do_GET(self) -> None:
            if self.path in ("/healthz", "/health"):
                ok, body = health()
                self._send(200 if ok else 503, "application/json", json.dumps(body).encode())
            elif self.path == "/metrics":
                self._send(200, "text/plain; version=0.0.4; charset=utf-8", metrics().encode())
            else:
                self._send(404, "text/plain", b"try /healthz or /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes are not news
            pass

    return Handler
