"""The billing API's memory under 20 unauthenticated 500 MB uploads (issue 19, "Must show").

Starts the API in its own process, as ``connector serve`` does (uvicorn on
``create_app(runtime)``, here on 127.0.0.1 and a free port, SQLite in a temporary
folder, the repository's tenant files), measures its idle RSS, then has 20 clients
at once each start a 500 MB POST to /v1/statements/approve without a key. Each client
streams one reused 64 KiB chunk (nothing of 500 MB is allocated) and stops once the
server answers or closes. The server's RSS is sampled from /proc every 10 ms.

    .venv/bin/python benchmarks/api_memory.py [--clients 20] [--mb 500]

Prints idle, peak and delta MB and whether the delta is within 50 MB; exit code 1 if
not. Bounded: each client gives up after 60 s, the whole run well inside 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from serving import free_port, wait_until_up

REPO = Path(__file__).resolve().parents[1]
LIMIT_MB = 50
CHUNK = b"x" * 65536

SERVER = """
import sys, uvicorn
from connector.api import create_app
from connector.api.guard import HEAD_BYTES
from connector.config.settings import DaemonSettings
from connector.runtime.runtime import open_runtime
from connector.plugins import load_plugins

folder, tenants, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings = DaemonSettings(database_url=f"sqlite:///{folder}/api.db", tenants_dir=tenants,
                          output_dir=f"{folder}/out")
runtime = open_runtime(settings, load_plugins())
# As `connector serve`: uvicorn.run on the app, its default settings.
uvicorn.run(create_app(runtime), host="127.0.0.1", port=port, log_level="warning",
            h11_max_incomplete_event_size=HEAD_BYTES)
"""


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def upload(port: int, total: int, deadline: float, answers: list[str], sent: list[int]) -> None:
    """One client: a 500 MB body in 64 KiB chunks until the server answers or closes."""
    head = (
        "POST /v1/statements/approve HTTP/1.1\r\nHost: bench\r\n"
        f"Content-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
    ).encode()
    done = 0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head)
            while done < total and time.monotonic() < deadline:
                readable, writable, _ = select.select([sock], [sock], [], 1.0)
                if readable:
                    break
                if writable:
                    done += sock.send(CHUNK[: total - done])
            sock.settimeout(5)
            reply = sock.recv(256)
            answers.append(reply.split(b"\r\n", 1)[0].decode(errors="replace") or "closed")
    except OSError as exc:
        answers.append(f"connection error: {exc.__class__.__name__}")
    sent.append(done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--mb", type=int, default=500, help="body size each client declares")
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, folder, str(REPO / "config/tenants"), str(port)],
            env=env,
        )
        try:
            wait_until_up(f"http://127.0.0.1:{port}", server, 30)
            time.sleep(1.0)
            idle = rss_mb(server.pid)
            peak = idle
            stop = threading.Event()

            def sample() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, rss_mb(server.pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            answers: list[str] = []
            sent: list[int] = []
            started = time.monotonic()
            deadline = started + 60.0
            clients = [
                threading.Thread(
                    target=upload, args=(port, args.mb * 1000 * 1000, deadline, answers, sent)
                )
                for _ in range(args.clients)
            ]
            for client in clients:
                client.start()
            for client in clients:
                client.join(90)
            time.sleep(0.5)  # one more sample after the last answer
            stop.set()
            sampler.join()
            elapsed = time.monotonic() - started
            peak = max(peak, rss_mb(server.pid))
        finally:
            server.terminate()
            server.wait(10)
    delta = peak - idle
    counts: dict[str, int] = {}
    for answer in answers:
        counts[answer] = counts.get(answer, 0) + 1
    print(f"clients: {args.clients} x {args.mb} MB unauthenticated POST /v1/statements/approve")
    print(f"answers: {counts}")
    print(f"body bytes the clients got to send: max {max(sent) / 1e6:.1f} MB, "
          f"total {sum(sent) / 1e6:.1f} MB in {elapsed:.1f} s")  # fmt: skip
    print(f"idle RSS: {idle:.1f} MB")
    print(f"peak RSS: {peak:.1f} MB")
    print(f"delta:    {delta:.1f} MB ({'within' if delta <= LIMIT_MB else 'OVER'} {LIMIT_MB} MB)")
    return 0 if delta <= LIMIT_MB else 1


if __name__ == "__main__":
    sys.exit(main())
