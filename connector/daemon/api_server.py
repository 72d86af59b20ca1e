"""The billing API and review page inside the daemon: uvicorn in a background thread.

With ``api.enabled`` in the settings, ``connector run`` serves the same app as
``connector serve`` (``connector.api.app.create_app``) on the daemon's own
:class:`~connector.runtime.runtime.Runtime`, so a tenant file reloaded by the daemon is
what the API sees too. FastAPI and uvicorn are imported only here, when the API is
on: a daemon without it does not carry them in memory.

The socket is bound before the thread starts, so a port already in use is an error of
``start()`` (the daemon does not start), not a log line from a thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from connector.config.errors import ConfigError, ConfigIssue
from connector.runtime.runtime import Runtime

log = logging.getLogger(__name__)

#: Seconds to wait for uvicorn to accept connections after the thread starts.
STARTUP_SECONDS = 15.0


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (IPv4 or IPv6 by the address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn does: a restarted daemon may rebind while old connections linger.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class ApiServer:
    """Serves ``create_app(runtime)`` on ``host:port`` until :meth:`stop`.

    :param graceful_seconds: on stop, how long requests in flight may take to finish
        before they are cancelled; keep it well inside the daemon's shutdown bound.
    """

    def __init__(
        self, runtime: Runtime, host: str, port: int, graceful_seconds: float = 5.0
    ) -> None:
        # Imported here, not at module level: ~10 MiB the daemon only pays when serving.
        import uvicorn

        from connector.api.app import create_app
        from connector.api.guard import HEAD_BYTES

        self.host, self.requested_port = host, port
        self.graceful_seconds = graceful_seconds
        config = uvicorn.Config(
            create_app(runtime),
            host=host,
            port=port,
            # None: uvicorn's records go through the daemon's handlers (JSON, redaction)
            # instead of handlers of its own.
            log_config=None,
            access_log=False,  # the app logs its own access lines (connector.api.access_log)
            lifespan="off",
            timeout_graceful_shutdown=max(1, int(graceful_seconds)),
            server_header=False,
            h11_max_incomplete_event_size=HEAD_BYTES,
        )
        self._server = uvicorn.Server(config)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port listened on (the requested one, or the one picked for port 0)."""
        if self._socket is None:
            return self.requested_port
        return self._socket.getsockname()[1]

    def start(self) -> ApiServer:
        """Bind, start the thread and wait until connections are accepted.

        :raises ConfigError: the address cannot be listened on (in use, not local), or
            the server did not come up within :data:`STARTUP_SECONDS`.
        """
        try:
            self._socket = _bind(self.host, self.requested_port)
        except OSError as exc:
            raise self._error(f"cannot listen on {self.host}:{self.requested_port}: "
                              f"{exc.strerror or exc}; choose another api.port or stop "
                              "what is listening there") from None  # fmt: skip
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]},
            name="api-http", daemon=True,
        )  # fmt: skip
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise self._error("the billing API did not start; see the log above")
            time.sleep(0.02)
        log.info("billing API on http://%s:%d (review page at /review)", self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish (bounded), join the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            # uvicorn polls should_exit every 0.1 s, then waits graceful_seconds at most.
            self._thread.join(self.graceful_seconds + 2.0)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(1.0)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _error(self, message: str) -> ConfigError:
        return ConfigError([ConfigIssue("<settings>", None, "api.port", message)])
