"""A pushing process for the SIGKILL test: ``python -m tests.erp.push_worker FOLDER DB_URL``.

Opens the runtime over FOLDER's tenant file, prints ``ready``, then calls the core's
``push`` until nothing is due, against the Xero named by the tenant's ``base_url``.
The token key comes from ``CONNECTOR_TOKEN_KEY``. The limiter allows far more than
Xero's 60 calls a minute, so that a push takes the simulator's latency, not a minute.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from connector_erp_xero.limits import RateLimiter

from connector.pipeline.publish.publish import push
from tests.erp.push_setup import TENANT, open_bulk_runtime, use_sim_sink


def main(argv: list[str]) -> int:
    """Push until nothing is due; exit 0."""
    folder, database_url = Path(argv[0]), argv[1]
    runtime = open_bulk_runtime(folder, database_url, os.environ["CONNECTOR_TOKEN_KEY"])
    use_sim_sink(runtime, RateLimiter(per_minute=100_000, per_day=1_000_000), sleep=_sleep)
    print("ready", flush=True)
    while push(runtime, TENANT):
        pass
    runtime.db.dispose()
    return 0


def _sleep(seconds: float) -> None:
    # Nothing here asks to wait long; a kill test must not stall on a backoff.
    import time

    time.sleep(min(seconds, 0.05))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
