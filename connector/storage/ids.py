"""Time-ordered ids for new rows (UUID version 7, RFC 9562).

A random UUID (version 4) lands anywhere in the indexes that hold it: building a period
inserts thousands of statements and hundreds of thousands of lines keyed by statement
id, and random keys touch a different index page for nearly every row. A version 7
UUID starts with the millisecond it was made, so new ids sort after older ones and each
index grows at its end. It is still a UUID (36 characters, 74 random bits): nothing
that reads or shows statement ids changes.

Python 3.14's ``uuid.uuid7`` is used where the interpreter has it. Before that, this
module's own: the ``uuid6`` package's ``uuid7`` was considered and left out because it
takes the next millisecond for every id made within one (a build that makes 500,000
line ids in 20 seconds would date its last ids eight minutes ahead) and keeps its state
without a lock (the API serves from threads); the RFC's 12-bit sequence below does
neither.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = [0, 0]  # the last id's millisecond and sequence


def _uuid7() -> uuid.UUID:
    """A new version 7 UUID, after every earlier one of this process.

    Within one millisecond a 12-bit sequence counts up (RFC 9562, method 1); when it
    runs out, the id borrows the next millisecond.
    """
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, sequence = _last
        if millis <= last_millis:
            millis, sequence = last_millis, sequence + 1
            if sequence > 0xFFF:
                millis, sequence = last_millis + 1, 0
        else:
            sequence = 0
        _last[:] = [millis, sequence]
    random_bits = int.from_bytes(os.urandom(8)) & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (sequence << 64) | (0b10 << 62) | random_bits
    return uuid.UUID(int=value)


uuid7 = getattr(uuid, "uuid7", _uuid7)
