"""The renderer conformance suite: ``TestMine = renderer_test_class(MyRenderer)``.

What a renderer promises (see :class:`connector.contracts.Renderer`): for every format it
offers, the same statement renders to the same bytes (statements are archived and
re-rendered, and a changed file looks like a changed invoice), the output is never
empty, Drafts and Open statements both render or are refused with a
:class:`~connector.contracts.PluginError` saying why, and a format it does not offer is
refused with a PluginError.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from connector.contracts import PluginError, StatementDocument
from connector.testing.failures import (
    ConformanceError,
    first_difference,
    name_suite,
    plugin_label,
    require,
    require_protocol,
)
from connector.testing.samples import open_statement, sample_documents

UNKNOWN_FORMAT = "kit-no-such-format"
#: Samples every renderer must render; the others it may refuse with a PluginError.
MUST_RENDER = frozenset({"open"})


def check_renderer_class(cls: type, formats: Iterable[str | None] = ()) -> None:
    """``name``, a non-empty ``formats`` mapping of name -> suffix, ``render``."""
    __tracebackhide__ = True
    label = require_protocol("renderer", cls)
    offered = cls.formats  # type: ignore[attr-defined]
    require(
        isinstance(offered, Mapping) and offered,
        f"{label}: formats must be a non-empty mapping of format name -> suffix, not {offered!r}",
    )
    for fmt, suffix in offered.items():
        require(
            isinstance(fmt, str) and fmt and isinstance(suffix, str) and suffix.startswith("."),
            f"{label}: format {fmt!r} has suffix {suffix!r}; a suffix starts with '.', "
            "e.g. '.pdf' (statements export writes <statement><suffix>)",
        )
    for fmt in formats:
        require(
            fmt in offered,
            f"{label}: the kit was asked to check format {fmt!r}, which the renderer does "
            f"not offer (formats: {', '.join(offered)})",
        )


def render_or_refusal(
    label: str, make: Callable[[], Any], document: StatementDocument, fmt: str, sample: str
) -> bytes | PluginError:
    """The bytes a new instance renders, or the PluginError it refused with.

    Anything else (another exception, a str, empty output) raises ConformanceError.
    """
    __tracebackhide__ = True
    where = f"{label} format {fmt!r} sample {sample!r}"
    try:
        output = make().render(document, fmt)
    except PluginError as exc:
        require(str(exc).strip(), f"{where}: refused with a PluginError without a message")
        return exc
    except Exception as exc:
        raise ConformanceError(
            f"{where}: render raised {type(exc).__name__}: {exc}; a renderer returns bytes "
            "or raises PluginError saying why it cannot render the statement"
        ) from exc
    require(
        isinstance(output, bytes),
        f"{where}: render returned {type(output).__name__}, not bytes",
    )
    require(output, f"{where}: render returned empty output")
    return output


def check_renders(label: str, sample: str, outcome: bytes | PluginError, fmt: str) -> None:
    """The samples in :data:`MUST_RENDER` render; the others may be refused."""
    __tracebackhide__ = True
    if isinstance(outcome, PluginError):
        require(
            sample not in MUST_RENDER,
            f"{label} format {fmt!r} refused the {sample!r} statement: {outcome}; an Open "
            "statement must render",
        )


def check_identical(
    label: str, fmt: str, sample: str, first: bytes | PluginError, second: bytes | PluginError
) -> None:
    """Two renders of one statement agree byte for byte (or refuse both times)."""
    __tracebackhide__ = True
    where = f"{label} format {fmt!r} sample {sample!r}"
    refusals = [o for o in (first, second) if isinstance(o, PluginError)]
    if refusals:
        require(
            len(refusals) == 2,
            f"{where} is not deterministic: one render refused ({refusals[0]}) and the "
            "other did not",
        )
        return
    assert isinstance(first, bytes) and isinstance(second, bytes)
    require(
        first == second,
        f"{where} is not deterministic: {first_difference(first, second)}; embed no "
        "clock time, random ids or unordered set iteration (use the statement's dates)",
    )


def check_unknown_format(label: str, make: Callable[[], Any]) -> None:
    """Asking for a format the renderer does not offer raises PluginError."""
    __tracebackhide__ = True
    try:
        output = make().render(open_statement(), UNKNOWN_FORMAT)
    except PluginError as exc:
        require(str(exc).strip(), f"{label}: refused format {UNKNOWN_FORMAT!r} with no message")
        return
    except Exception as exc:
        raise ConformanceError(
            f"{label}: format {UNKNOWN_FORMAT!r} raised {type(exc).__name__} ({exc}), not "
            "PluginError; name the formats the renderer offers in a PluginError"
        ) from exc
    raise ConformanceError(
        f"{label}: format {UNKNOWN_FORMAT!r}, which it does not offer, returned "
        f"{type(output).__name__} instead of raising PluginError"
    )


def wait_for_next_second() -> None:
    """Sleep into the next wall-clock second, so a timestamp in the output would change."""
    now = time.time()
    time.sleep(int(now) + 1.01 - now)


def renderer_test_class(
    renderer_cls: type,
    formats: Iterable[str] | None = None,
    documents: Mapping[str, StatementDocument] | None = None,
) -> type:
    """A pytest test class checking ``renderer_cls`` against the Renderer contract.

    :param formats: the formats to check (default: every one in ``renderer_cls.formats``).
    :param documents: statements to render, by name (default: the samples of
        :mod:`connector.testing.samples`; ``open`` must be among them to be required).

    Tests are parametrized by format and sample, so a failure names both.
    """
    offered = getattr(renderer_cls, "formats", None)
    chosen: list[str | None] = list(
        formats if formats is not None else (offered if isinstance(offered, Mapping) else ())
    )
    # An empty parameter list would skip the tests; None fails them with the reason.
    chosen = chosen or [None]
    docs = dict(documents) if documents is not None else sample_documents()
    label = plugin_label("renderer", renderer_cls)

    def outcome(fmt: str | None, sample: str) -> bytes | PluginError:
        check_renderer_class(renderer_cls, [fmt])
        assert fmt is not None
        return render_or_refusal(label, renderer_cls, docs[sample], fmt, sample)

    formats_param = pytest.mark.parametrize("fmt", chosen)
    samples_param = pytest.mark.parametrize("sample", list(docs))

    class RendererConformance:
        kit_renderer_class = renderer_cls

        def test_satisfies_the_renderer_protocol(self) -> None:
            check_renderer_class(renderer_cls, chosen)

        @samples_param
        @formats_param
        def test_renders_non_empty_bytes(self, fmt: str | None, sample: str) -> None:
            check_renders(label, sample, outcome(fmt, sample), str(fmt))

        @samples_param
        @formats_param
        def test_output_is_deterministic(self, fmt: str | None, sample: str) -> None:
            check_identical(label, str(fmt), sample, outcome(fmt, sample), outcome(fmt, sample))

        def test_output_is_identical_after_the_clock_moves_on(self) -> None:
            sample = "open" if "open" in docs else next(iter(docs))
            before = {fmt: outcome(fmt, sample) for fmt in chosen}
            wait_for_next_second()
            for fmt in chosen:
                check_identical(label, str(fmt), sample, before[fmt], outcome(fmt, sample))

        def test_unknown_format_raises_plugin_error(self) -> None:
            check_renderer_class(renderer_cls)
            check_unknown_format(label, renderer_cls)

    return name_suite(RendererConformance, renderer_cls)
