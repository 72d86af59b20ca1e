"""``connector run`` with the Xero sink's limits a minute made a second, for the month end.

The daemon is the real one (``connector.cli.daemon.run``, its options from
``CONNECTOR_CONFIG``); only the Xero organisation's process-wide rate limiter and the
sink's Retry-After sleep run on the scaled clock of ``benchmarks/push.py``, so pushing
to the simulator takes seconds where Xero's real limits would take an hour.

    CONNECTOR_CONFIG=connector.yaml .venv/bin/python benchmarks/month_end_daemon.py \
        --metrics-port 0
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from connector_erp_xero import limits
    from connector_erp_xero.plugin import XeroSink
    from push import scaled_clock, scaled_sleep

    from connector.cli.daemon import run
    from tests.erp.xero_simulator import TENANT_ID

    limits._shared[TENANT_ID] = limits.RateLimiter(
        limits.PER_MINUTE,
        limits.PER_DAY,
        limits.CONCURRENT,
        clock=scaled_clock,
        sleep=scaled_sleep,
    )
    XeroSink.__init__.__kwdefaults__["sleep"] = scaled_sleep
    run()


if __name__ == "__main__":
    main()
