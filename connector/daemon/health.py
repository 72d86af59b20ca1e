"""``/healthz``, ``/readyz`` and ``/metrics`` over plain HTTP, in a background thread.

The standard library's server is enough for three read-only endpoints scraped every
few seconds; the billing API (FastAPI, :mod:`.api_server`) has its own port and concerns.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

#: () -> (ok, details): liveness (the loop is turning) and readiness (can do work).
Probe = Callable[[], tuple[bool, dict]]

#: Seconds a probe may take before the answer is 503: an orchestrator's probe timeout
#: is typically 1 s, and a silent network partition would block a database check for
#: as long as the kernel retransmits.
PROBE_SECONDS = 1.0


class BoundedProbe:
    """``probe`` run in its own thread, answered within ``seconds`` whatever it does.

    A check still running when the next request comes is joined, not started again:
    a database that stopped answering holds one thread, not one per request.
    """

    def __init__(self, probe: Probe, seconds: float = PROBE_SECONDS) -> None:
        self._probe, self.seconds = probe, seconds
        self._lock = threading.Lock()
        self._running: Future[tuple[bool, dict]] | None = None

    def __call__(self) -> tuple[bool, dict]:
        with self._lock:
            if self._running is None or self._running.done():
                self._running = Future()
                threading.Thread(
                    target=self._run, args=(self._running,), name="health-probe", daemon=True
                ).start()
            running = self._running
        try:
            return running.result(timeout=self.seconds)
        except FutureTimeout:
            return False, {"reason": f"no answer within {self.seconds:g} s"}

    def _run(self, future: Future[tuple[bool, dict]]) -> None:
        try:
            future.set_result(self._probe())
        except BaseException as exc:  # the handler turns it into "not ok"
            future.set_exception(exc)


class _LoggingServer(ThreadingHTTPServer):
    """socketserver prints a failed request's traceback to stderr; a daemon logs it,
    formatted (JSON) and redacted like the rest of its log."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        log.warning("health server: a request from %s failed", client_address, exc_info=True)


class HealthServer:
    """Serves the probes and the registry on ``host:port`` (port 0: any free port).

    :param probe_seconds: a probe that takes longer is answered 503 (see BoundedProbe).
    """

    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        live: Probe,
        ready: Probe,
        probe_seconds: float = PROBE_SECONDS,
    ) -> None:
        routes = {
            "/healthz": BoundedProbe(live, probe_seconds),
            "/readyz": BoundedProbe(ready, probe_seconds),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path in routes:
                    try:
                        ok, details = routes[path]()
                    except Exception as exc:  # a probe that fails says "not ok"
                        log.warning("health server: %s probe failed", path, exc_info=True)
                        ok, details = False, {"error": type(exc).__name__}
                    body = json.dumps({"status": "ok" if ok else "unavailable", **details})
                    self._send(200 if ok else 503, body.encode(), "application/json")
                else:
                    self._send(404, b'{"status": "not found"}', "application/json")

            def _send(self, code: int, body: bytes, content_type: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt: str, *args: object) -> None:
                log.debug("health server: " + fmt, *args)

        self._server = _LoggingServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health-http", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health and metrics on port %d (/healthz /readyz /metrics)", self.port)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
