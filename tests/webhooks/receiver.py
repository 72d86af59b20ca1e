"""A webhook receiver on a free local port, as a customer's system would run one.

It records every request, answers as told (200, 503, a redirect, slowly), can be taken
down (its port closed) and brought back on the same port, and de-duplicates events on
their id after verifying them, as docs/webhooks.md tells receivers to.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from connector.webhooks import verify


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    status: int = 200
    answer: bytes = b'{"received": true}'
    delay: float = 0.0
    location: str | None = None
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(Request(dict(self.headers.items()), body))
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused until :meth:`start` again."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self, secret: str) -> list[dict[str, Any]]:
        """Every verified event once, in the order first received (de-duplicated on id)."""
        found: dict[str, dict[str, Any]] = {}
        for request in self.requests:
            event = verify(request.body, request.headers, secret)
            found.setdefault(event["id"], event)
        return list(found.values())

    def ids(self) -> list[str]:
        """The event id of every request, repeats included."""
        return [r.headers["Connector-Webhook-Id"] for r in self.requests]
