"""How far long work got: a bar on a terminal, a log line every few seconds elsewhere.

Pipeline functions (ingest, build, approve, export, push, report) take a
:class:`Progress` and say what they are doing (:meth:`Progress.stage`) and how much of
it is done (:meth:`Progress.advance`); they never know who watches. Three watch:

* :class:`RichProgress`: a ``rich`` bar per stage on the console (stderr) with counts,
  rate and elapsed time, when that console is a terminal;
* :class:`LogProgress`: one INFO line at most every :data:`LOG_EVERY` seconds, and a
  closing line for a stage that took longer than that: off a terminal and in the daemon;
* :data:`NO_PROGRESS`: nothing (the default of every pipeline function: tests, library
  use, ``--no-progress``).

Off a terminal the command line logs on the ``connector.progress`` logger and shows it
without ``-v``: an operator who sends a long command's output to a file or a pipe still
sees on stderr that it is alive, as pip and kubectl do. stdout carries only the
command's result (``--json`` stays parseable). Quick work logs nothing: the first line
comes :data:`LOG_EVERY` seconds into a stage.

A provider plugin may take ``progress`` as a keyword of ``fetch`` (the core passes it
only to a ``fetch`` that declares it) and report rows or bytes read; work that reports
no counts itself, such as one DuckDB query, can be followed with :func:`polled`.

Nothing here imports ``rich`` until a bar is made: ``connector --help`` stays quick.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from rich.console import Console

LOGGER = "connector.progress"
LOG_EVERY = 5.0  # seconds between two progress lines off a terminal
BYTES = "bytes"  # the unit whose amounts are shown as kB, MB, GB
T = TypeVar("T")


@runtime_checkable
class Progress(Protocol):
    """Where long work reports how far it got. Implementations are thread-safe."""

    def stage(self, description: str, total: int | None = None, unit: str = "rows") -> None:
        """A new stage begins (the previous one is done).

        :param description: what is being done, e.g. ``storing 2026-10 charges``.
        :param total: how many ``unit`` the stage will do, or ``None`` when unknown.
        :param unit: what is counted (``rows``, ``charges``, ``statements``, ``bytes``).
        """
        ...

    def advance(self, n: int = 1) -> None:
        """``n`` more ``unit`` of the current stage are done."""
        ...


class NoProgress:
    """Reports nothing."""

    def stage(self, description: str, total: int | None = None, unit: str = "rows") -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


NO_PROGRESS: Progress = NoProgress()


def amount(value: float, unit: str) -> str:
    """``1,234 rows``; bytes as ``38.3 MB`` (decimal units, as rich and ls -h --si)."""
    if unit != BYTES:
        return f"{value:,.0f} {unit}"
    size, suffix = float(value), "bytes"
    for prefix in ("kB", "MB", "GB", "TB"):
        if size < 1000:
            break
        size, suffix = size / 1000, prefix
    return f"{size:,.0f} bytes" if suffix == "bytes" else f"{size:,.1f} {suffix}"


def _count(value: float, unit: str) -> str:
    """A count without its unit (the total after it names it), bytes with theirs."""
    return amount(value, unit) if unit == BYTES else f"{value:,.0f}"


def rate(value: float | None, unit: str) -> str:
    """``30,512 charges/s``; ``12.1 MB/s``; empty while unknown."""
    if value is None:
        return ""
    return f"{amount(value, unit)}/s"


@dataclass(slots=True)
class _Stage:
    description: str
    total: int | None
    unit: str
    started: float
    done: int = 0
    logged: bool = False


class LogProgress:
    """Progress as INFO log lines, at most one per ``every`` seconds of ``clock``.

    The first line comes ``every`` seconds after the first stage began, then one each
    ``every`` seconds whatever the stages (several short stages make one long command);
    a stage that was logged ends with a line giving its count, duration and rate. Used
    as a context manager, a thread also logs a stage that advances seldom or never (a
    provider that reports no counts), and the last stage's closing line is written on
    leaving.
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        every: float = LOG_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger or logging.getLogger(LOGGER)
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._stage: _Stage | None = None
        self._last: float | None = None  # when the last line was logged
        self._stop: threading.Event | None = None
        self._ticker: threading.Thread | None = None

    def stage(self, description: str, total: int | None = None, unit: str = "rows") -> None:
        with self._lock:
            self._finish()
            now = self.clock()
            if self._stage is None and self._last is None:
                self._last = now  # the first line comes ``every`` seconds into the work
            self._stage = _Stage(description, total, unit, now)

    def advance(self, n: int = 1) -> None:
        with self._lock:
            if self._stage is not None:
                self._stage.done += n
                self._log_if_due()

    def tick(self) -> None:
        """Log the current stage if a line is due, whether or not it advanced."""
        with self._lock:
            self._log_if_due()

    def close(self) -> None:
        """The last stage is done: its closing line, if it was long enough to log."""
        with self._lock:
            self._finish()
            self._stage = None

    def __enter__(self) -> LogProgress:
        self._stop = threading.Event()
        stop, every = self._stop, max(0.2, min(1.0, self.every / 5))

        def tick_until_stopped() -> None:
            while not stop.wait(every):
                self.tick()

        # In the caller's context: the lines carry its log_context ids (tenant, unit).
        self._ticker = _thread(tick_until_stopped, "progress")
        self._ticker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._stop is not None and self._ticker is not None:
            self._stop.set()
            self._ticker.join()
        if exc_info[0] is None:
            self.close()

    def _log_if_due(self) -> None:
        stage, now = self._stage, self.clock()
        if stage is None or self._last is None or now - self._last < self.every:
            return
        self._last = now
        stage.logged = True
        seconds = now - stage.started
        speed = stage.done / seconds if seconds > 0 and stage.done else None
        if stage.total:
            percent = min(100, int(100 * stage.done / stage.total))
            done = f"{_count(stage.done, stage.unit)} of {amount(stage.total, stage.unit)}"
            done += f" ({percent}%)"
        elif stage.done:
            done = amount(stage.done, stage.unit)
        else:
            done = "working"
        speed_text = f", {rate(speed, stage.unit)}" if speed else ""
        self.logger.info("%s: %s%s, %.0f s", stage.description, done, speed_text, seconds)

    def _finish(self) -> None:
        stage = self._stage
        if stage is None or not stage.logged:
            return
        seconds = self.clock() - stage.started
        speed = stage.done / seconds if seconds > 0 and stage.done else None
        speed_text = f" ({rate(speed, stage.unit)})" if speed else ""
        self.logger.info(
            "%s: done, %s in %.1f s%s",
            stage.description, amount(stage.done, stage.unit), seconds, speed_text,
        )  # fmt: skip


class RichProgress:
    """A ``rich`` bar per stage on ``console``: counts, rate and elapsed time. Use as a
    context manager; finished stages stay on screen with their final counts."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as Bar

        self.console = console
        count, speed = _rich_columns()
        self._bar = Bar(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            BarColumn(),
            count,
            speed,
            TimeElapsedColumn(),
            console=console,
            # stdout is the command's result (--json): never captured into the display.
            redirect_stdout=False,
        )
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if exc_info[0] is None:
            self._finish()
        self._bar.stop()

    @property
    def bar(self) -> Any:
        """The ``rich.progress.Progress`` shown (its ``tasks`` are the stages so far)."""
        return self._bar

    def stage(self, description: str, total: int | None = None, unit: str = "rows") -> None:
        self._finish()
        self._task = self._bar.add_task(description, total=total, unit=unit)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n)

    def _finish(self) -> None:
        """The current stage is done: shown complete (a total found to be smaller than
        announced, or unknown, becomes the count reached) and its clock stopped."""
        if self._task is None:
            return
        task = self._bar.tasks[-1]
        total = task.total if task.total is not None else task.completed
        self._bar.update(self._task, total=total, completed=total)
        self._bar.stop_task(self._task)
        self._task = None


def _rich_columns() -> tuple[Any, Any]:
    """The count (``60,000/128,574 charges``) and rate (``30,512 charges/s``) columns."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class CountColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            unit = task.fields.get("unit", "rows")
            if not task.completed and not task.total:  # a stage that counts nothing
                return Text("")
            if task.total is None:
                return Text(amount(task.completed, unit), style="progress.download")
            shown = f"{_count(task.completed, unit)}/{amount(task.total, unit)}"
            return Text(shown, style="progress.download")

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.speed
            if not task.completed:
                return Text("")
            if task.finished and task.finished_time:  # whole stage: also one jump's rate
                speed = task.completed / task.finished_time
            return Text(rate(speed, task.fields.get("unit", "rows")), style="progress.data.speed")

    return CountColumn(), RateColumn()


@contextmanager
def progress_for(
    console: Console, enabled: bool | None = None, every: float | None = None
) -> Iterator[Progress]:
    """The command line's progress: a bar when ``console`` is a terminal, else log lines
    on ``connector.progress`` (shown without ``-v``), nothing when ``enabled`` is False.
    ``enabled=True`` shows the bar even off a terminal."""
    if enabled is False:
        yield NO_PROGRESS
        return
    if enabled or console.is_terminal:
        with RichProgress(console) as bar:
            yield bar
        return
    logger = logging.getLogger(LOGGER)
    if logger.level == logging.NOTSET:  # -v or not: an operator sees the command is alive
        logger.setLevel(logging.INFO)
    with LogProgress(logger, LOG_EVERY if every is None else every) as lines:
        yield lines


def counted(items: Iterable[T], progress: Progress) -> Iterator[T]:
    """``items``, each counted done on ``progress`` once the loop asks for the next (so
    also after a ``continue``)."""
    for item in items:
        yield item
        progress.advance()


@contextmanager
def polled(
    progress: Progress, fraction: Callable[[], float | None], total: int, every: float = 0.25
) -> Iterator[None]:
    """Advance ``progress`` to ``fraction() * total`` every ``every`` seconds while the
    body runs, and to ``total`` when it ends; for work that reports no counts itself
    (one DuckDB query: ``con.query_progress()``). ``fraction`` returns 0..1 or ``None``
    while unknown; the count never goes back."""
    stop = threading.Event()
    reached = 0

    def poll() -> None:
        nonlocal reached
        while not stop.wait(every):
            try:
                share = fraction()
            except Exception:  # progress is a courtesy: it never breaks the work
                return
            if share is None:
                continue
            target = int(min(1.0, max(0.0, share)) * total)
            if target > reached:
                progress.advance(target - reached)
                reached = target

    poller = _thread(poll, "progress-poll")
    poller.start()
    try:
        yield
    finally:
        stop.set()
        poller.join()
    if total > reached:
        progress.advance(total - reached)


def _thread(target: Callable[[], None], name: str) -> threading.Thread:
    """A daemon thread running ``target`` in a copy of the caller's context variables
    (a new thread starts with none), so that what it logs carries the caller's ids."""
    context = contextvars.copy_context()
    return threading.Thread(target=context.run, args=(target,), name=name, daemon=True)
