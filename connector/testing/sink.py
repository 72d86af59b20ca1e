"""The ERP sink conformance suite: ``TestMine = sink_test_class(MySink, settings=..., ...)``.

What a sink promises (see :class:`connector.contracts.Sink`): one :class:`PushResult` per
statement it is given, and exactly once: the outbox retries a push after a crash, so the
same statement given again (by a new sink instance, as after a restart) must not create
a second invoice. The kit sees "invoices created" through ``count_invoices(context)``,
which the author supplies (read the files a file sink wrote, ask the fake ERP an API
sink talks to); without it, the kit checks that both pushes report the same remote id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from connector.contracts import PushResult, SinkContext, StatementDocument
from connector.testing.failures import (
    name_suite,
    plugin_label,
    require,
    require_plain_name,
    require_protocol,
)
from connector.testing.provider import check_settings_model
from connector.testing.samples import approved_documents, draft_statement

SinkSettings = Mapping[str, Any] | Callable[[Path], Mapping[str, Any]]
InvoiceCounter = Callable[[SinkContext], int]
KIT_TENANT = "kit-tenant"


class MemoryTokenStore:
    """A :class:`connector.contracts.TokenStore` in memory, for tests of OAuth2 sinks."""

    def __init__(self, tokens: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.tokens: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (tokens or {}).items()}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def load(self, key: str) -> dict[str, Any] | None:
        """The saved token for ``key`` (a copy), or None."""
        token = self.tokens.get(key)
        return dict(token) if token is not None else None

    def save(self, key: str, token: Mapping[str, Any]) -> None:
        """Replace the token for ``key``."""
        self.tokens[key] = dict(token)

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold ``key``'s refresh lock (within this process)."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


def stand_in_render(document: StatementDocument, fmt: str) -> bytes:
    """What ``SinkContext.render`` returns in the kit: small, deterministic bytes."""
    return f"{fmt} of statement {document.statement_id} r{document.revision}\n".encode()


@dataclasses.dataclass(slots=True)
class SinkSetup:
    """One test's sink settings and output folder; every instance shares them."""

    sink_cls: type
    settings: Mapping[str, Any]
    output_dir: Path
    tokens: MemoryTokenStore = dataclasses.field(default_factory=MemoryTokenStore)

    @property
    def label(self) -> str:
        return plugin_label("sink", self.sink_cls)

    def context(self, run_id: str = "kit-run-1") -> SinkContext:
        return SinkContext(
            tenant=KIT_TENANT,
            output_dir=self.output_dir,
            run_id=run_id,
            tokens=self.tokens,
            render=stand_in_render,
        )

    def push(self, documents: Sequence[StatementDocument], run_id: str) -> list[PushResult]:
        """Push with a new sink instance, as a daemon (re)started for run ``run_id`` would."""
        return list(self.sink_cls(self.settings, self.context(run_id)).push(list(documents)))


def check_sink_class(cls: type) -> None:
    """``name``, ``settings_model`` and ``push`` as :class:`Sink` declares them."""
    __tracebackhide__ = True
    require_plain_name(require_protocol("sink", cls), cls)


def check_results(
    label: str, documents: Sequence[StatementDocument], results: Sequence[object]
) -> None:
    """One PushResult per document, matched by statement id; a refusal says why."""
    __tracebackhide__ = True
    require(
        all(isinstance(r, PushResult) for r in results),
        f"{label}: push() returned {[type(r).__name__ for r in results]}; it must return "
        "a list of PushResult",
    )
    wanted = Counter(d.statement_id for d in documents)
    got = Counter(r.statement_id for r in results)  # type: ignore[attr-defined]
    require(
        wanted == got,
        f"{label}: push() of statements {sorted(wanted.elements())} returned results for "
        f"{sorted(got.elements())}; it must return exactly one PushResult per statement, "
        "with its statement_id (the outbox matches results by it)",
    )
    for result in results:
        assert isinstance(result, PushResult)
        require(
            result.ok or result.message.strip(),
            f"{label}: statement {result.statement_id} was refused (ok=False) with no "
            "message; the message is what the operator reads to fix it",
        )


def check_delivered(label: str, results: Sequence[PushResult], when: str) -> None:
    """Every result is ok: the kit's sample statements are all deliverable."""
    __tracebackhide__ = True
    for result in results:
        require(
            result.ok,
            f"{label}: statement {result.statement_id} was not delivered {when}: "
            f"{result.message or '(no message)'}",
        )


def check_same_remote_ids(
    label: str, first: Sequence[PushResult], second: Sequence[PushResult]
) -> None:
    """A statement pushed again reports the invoice created the first time."""
    __tracebackhide__ = True
    before = {r.statement_id: r.remote_id for r in first}
    for result in second:
        require(
            result.remote_id == before.get(result.statement_id),
            f"{label}: statement {result.statement_id} was pushed twice and got remote id "
            f"{before.get(result.statement_id)!r}, then {result.remote_id!r}; pushing it again "
            "(after a restart) must find the invoice created the first time, not create another",
        )


def check_invoice_count(label: str, counted: object, statements: int, what: str) -> None:
    """``count_invoices`` saw one invoice per distinct statement."""
    __tracebackhide__ = True
    require(
        isinstance(counted, int),
        f"{label}: count_invoices returned {counted!r}; it must return an int",
    )
    require(
        counted == statements,
        f"{label} created {counted} invoices for {statements} statement(s) {what}; each "
        "statement revision must create exactly one invoice, however often it is pushed",
    )


def sink_test_class(
    sink_cls: type,
    *,
    settings: SinkSettings,
    count_invoices: InvoiceCounter | None = None,
    documents: Mapping[str, StatementDocument] | None = None,
) -> type:
    """A pytest test class checking ``sink_cls`` against the Sink contract.

    :param settings: the tenant's ``erp.settings``; or a callable given a fresh folder
        (the sink's ``context.output_dir``) that returns them.
    :param count_invoices: ``count_invoices(context) -> int``: how many invoices exist
        after the kit's pushes (e.g. distinct invoice numbers in the files the sink wrote
        below ``context.output_dir``, or invoices in a fake ERP). Without it, only the
        remote ids the sink reports are compared.
    :param documents: the statements to push, by name (default: the numbered samples of
        :mod:`connector.testing.samples`).

    Each test gets a fresh folder; subclass to add fixtures (a fake ERP, say).
    """
    chosen = dict(documents) if documents is not None else approved_documents()

    class SinkConformance:
        kit_sink_class = sink_cls

        @pytest.fixture
        def kit_sink(self, tmp_path: Path) -> SinkSetup:
            output = tmp_path / "output"
            output.mkdir()
            values = settings(output) if callable(settings) else settings
            return SinkSetup(sink_cls, dict(values), output)

        def _count(self, setup: SinkSetup, statements: int, what: str) -> None:
            __tracebackhide__ = True
            if count_invoices is not None:
                counted = count_invoices(setup.context())
                check_invoice_count(setup.label, counted, statements, what)

        def test_satisfies_the_sink_protocol(self) -> None:
            check_sink_class(sink_cls)

        def test_settings_model_accepts_the_settings(self, kit_sink: SinkSetup) -> None:
            check_settings_model(sink_cls, kit_sink.settings)

        def test_pushing_nothing_returns_no_results(self, kit_sink: SinkSetup) -> None:
            results = kit_sink.push([], "kit-run-1")
            require(results == [], f"{kit_sink.label}: push([]) returned {results!r}, not []")

        def test_push_returns_one_result_per_statement(self, kit_sink: SinkSetup) -> None:
            docs = list(chosen.values())
            results = kit_sink.push(docs, "kit-run-1")
            check_results(kit_sink.label, docs, results)
            check_delivered(kit_sink.label, results, "by the first push")
            self._count(kit_sink, len(docs), "pushed once")

        def test_the_same_statement_pushed_twice_creates_one_invoice(
            self, kit_sink: SinkSetup
        ) -> None:
            document = next(iter(chosen.values()))
            first = kit_sink.push([document], "kit-run-1")
            # A new instance and a new run: the daemon restarted after the first push.
            second = kit_sink.push([document], "kit-run-2")
            for results, when in ((first, "the first time"), (second, "the second time")):
                check_results(kit_sink.label, [document], results)
                check_delivered(kit_sink.label, results, when)
            self._count(kit_sink, 1, "pushed twice, the second time after a restart")
            check_same_remote_ids(kit_sink.label, first, second)

        def test_every_statement_pushed_again_after_a_restart_is_not_duplicated(
            self, kit_sink: SinkSetup
        ) -> None:
            docs = list(chosen.values())
            first = kit_sink.push(docs, "kit-run-1")
            second = kit_sink.push(docs, "kit-run-2")
            check_results(kit_sink.label, docs, second)
            check_delivered(kit_sink.label, second, "when pushed again")
            self._count(kit_sink, len(docs), "each pushed twice, the second time after a restart")
            check_same_remote_ids(kit_sink.label, first, second)

        def test_a_refused_statement_says_why(self, kit_sink: SinkSetup) -> None:
            # The core never pushes a Draft; a sink given one may refuse it, with a reason.
            draft = draft_statement()
            check_results(kit_sink.label, [draft], kit_sink.push([draft], "kit-run-1"))

    return name_suite(SinkConformance, sink_cls)
