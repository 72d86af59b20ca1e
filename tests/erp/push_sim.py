"""The stateful fake Xero for push tests at scale: random faults, and served over HTTP.

:class:`FaultyXero` is :class:`~tests.erp.xero_simulator.FakeXero` answering a seeded
random share of API calls with a fault: 429 with Retry-After, 500, 503, a timeout after
it committed the request, or a dropped connection.

:class:`XeroServer` serves a FakeXero's state logic on loopback with ``http.server``
(no ``responses``), so a pushing subprocess can be killed and a new one find the same
Xero; optionally with a per-call latency and Xero's concurrency limit.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from tests.erp.xero_simulator import FakeXero, Fault

FAULT_KINDS: dict[str, Fault] = {
    "429": Fault("*", "", 429, {"Retry-After": "3", "X-Rate-Limit-Problem": "minute"}),
    "500": Fault("*", "", 500),
    "503": Fault("*", "", 503, body='{"Message": "Service Unavailable"}'),
    "timeout-after-commit": Fault("*", "", after_commit=True, exception=requests.ReadTimeout),
    "connection-reset": Fault("*", "", exception=requests.ConnectionError),
}


class NoMock:
    """Stands in for ``responses.RequestsMock`` where FakeXero is served another way."""

    def add_callback(self, *args: Any, **kwargs: Any) -> None:
        pass


class FaultyXero(FakeXero):
    """A FakeXero that answers a seeded random ``rate`` of API calls with a fault."""

    def __init__(self, mock: Any, *, rate: float, seed: int) -> None:
        super().__init__(mock)
        self.rate = rate
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()

    def _take_fault(self, call: Any) -> Fault | None:
        # Called under the simulator's lock, so the generator is never shared mid-draw.
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(sorted(FAULT_KINDS))
        self.injected[kind] += 1
        return FAULT_KINDS[kind]


class _Request:
    """What FakeXero reads of a request: url, method, headers, body."""

    def __init__(self, method: str, url: str, headers: Any, body: bytes | None) -> None:
        self.method, self.url, self.body = method, url, body
        self.headers = CaseInsensitiveDict(headers)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a pusher killed mid-call leaves a broken pipe: expected here


class XeroServer:
    """A FakeXero on ``http://127.0.0.1:<port>`` (``base_url``), in a daemon thread.

    :param latency: seconds each API call takes before it is served.
    :param concurrent: API calls in progress at once above which Xero answers 429.
    """

    def __init__(
        self, xero: FakeXero | None = None, *, latency: float = 0.0, concurrent: int | None = None
    ) -> None:
        self.xero = xero or FakeXero(NoMock())  # type: ignore[arg-type]
        self.latency, self.concurrent = latency, concurrent
        self.active = 0
        self.concurrency_429 = 0
        self._lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, method: str, path: str, headers: Any, body: bytes | None) -> tuple:
        """FakeXero's (status, headers, body) for one request, within the concurrency cap."""
        with self._lock:
            self.active += 1
            over = self.concurrent is not None and self.active > self.concurrent
            if over:
                self.concurrency_429 += 1
        try:
            if over:
                return 429, {"Retry-After": "1", "X-Rate-Limit-Problem": "concurrent"}, "{}"
            if self.latency:
                time.sleep(self.latency)
            return self.xero._api(_Request(method, self.base_url + path, headers, body))  # type: ignore[arg-type]
        finally:
            # Before the answer is written: the caller frees its slot only after reading it.
            with self._lock:
                self.active -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body go out in two writes. With Nagle's algorithm the
            # body waits for the client's ACK of the headers, which the client delays
            # (40 ms or more on Linux): every call would take that long on loopback.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                try:
                    status, headers, text = server.answer(
                        self.command, self.path, self.headers.items(), body
                    )
                except (requests.ConnectionError, requests.Timeout):
                    self.close_connection = True  # an injected fault: drop the connection
                    return
                data = text.encode() if isinstance(text, str) else text
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # one line per call would drown the test output

        return Handler
