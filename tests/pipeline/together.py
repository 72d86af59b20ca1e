"""Run pieces of work in threads released at one moment: how the race tests collide."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def run_together(work: Callable[..., object], args: Sequence[object]) -> list[BaseException]:
    """``work(arg)`` for each of ``args``, each in its own thread, all released together by
    a barrier; what they raised (a thread's exception is otherwise lost)."""
    barrier = threading.Barrier(len(args))
    errors: list[BaseException] = []

    def run(arg: object) -> None:
        try:
            barrier.wait()
            work(arg)
        except BaseException as exc:  # returned: the caller asserts there were none
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
