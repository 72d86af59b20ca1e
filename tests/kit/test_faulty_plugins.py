"""The deliberately faulty example plugins fail the kit, each with a message saying why.

The kit runs in a pytest subprocess on a generated test module, the way a plugin
author's CI would run it; the faulty distribution is put on its path, never installed.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from tests.kit.run_pytest import PytestRun, run_pytest

FAULTY = REPO / "examples" / "connector-faulty-plugins"

KIT_MODULE = '''
from connector_faulty.provider import FloatProvider
from connector_faulty.renderer import FaultyRenderer
from connector_faulty.sink import DuplicatingSink

from connector.testing import provider_test_class, renderer_test_class, sink_test_class


def count_invoices(context):
    """One invoice per line of every file the sink wrote."""
    return sum(len(p.read_text().splitlines()) for p in context.output_dir.glob("*.txt"))


TestFaultyRenderer = renderer_test_class(FaultyRenderer)
TestFloatProvider = provider_test_class(FloatProvider, settings={})
TestDuplicatingSink = sink_test_class(DuplicatingSink, settings={}, count_invoices=count_invoices)
'''


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> PytestRun:
    folder = tmp_path_factory.mktemp("faulty-kit")
    (folder / "test_faulty_kit.py").write_text(KIT_MODULE)
    return run_pytest(["test_faulty_kit.py"], folder, [FAULTY])


def test_the_faulty_plugins_fail_the_kit_without_errors(faulty_run: PytestRun) -> None:
    """Exit code 1 is "tests failed"; collection or fixture errors would show as errors."""
    process = faulty_run.process
    assert process.returncode == 1, process.stdout + process.stderr
    assert " error" not in process.stdout.strip().splitlines()[-1], process.stdout


def test_a_non_deterministic_renderer_is_told_where_its_outputs_differ(
    faulty_run: PytestRun,
) -> None:
    message = faulty_run.message("TestFaultyRenderer::test_output_is_deterministic[txt-open]")
    assert re.search(
        r"renderer 'faulty-txt' format 'txt' sample 'open' is not deterministic: "
        r"outputs differ at byte \d+",
        message,
    ), message


def test_a_renderer_answering_an_unknown_format_is_told_to_raise_plugin_error(
    faulty_run: PytestRun,
) -> None:
    message = faulty_run.message("TestFaultyRenderer::test_unknown_format_raises_plugin_error")
    assert "returned bytes instead of raising PluginError" in message, message


def test_a_float_cost_is_named_with_its_batch_charge_and_field(faulty_run: PytestRun) -> None:
    message = faulty_run.message("TestFloatProvider::test_money_is_decimal_never_float")
    assert (
        "provider 'faulty-floats': batch 2026-10 charge #0 (account 111111111111, service "
        "AmazonEC2, sku BoxUsage): billed_cost is float 1.1; money must be decimal.Decimal"
    ) in message, message


def test_a_charge_outside_its_period_is_named_with_its_dates(faulty_run: PytestRun) -> None:
    message = faulty_run.message("TestFloatProvider::test_charges_fall_in_their_batch_period")
    assert "holds charge #1" in message and "from 2026-11-02 to 2026-11-03" in message, message
    assert "outside the batch's period" in message, message


def test_an_unstable_source_hash_is_reported(faulty_run: PytestRun) -> None:
    message = faulty_run.message("TestFloatProvider::test_source_hash_is_stable_across_fetches")
    assert "source_hash of 2026-10 changed between two fetches of the same data" in message


def test_a_sink_exporting_again_after_a_restart_is_told_it_duplicated(
    faulty_run: PytestRun,
) -> None:
    message = faulty_run.message(
        "TestDuplicatingSink::test_the_same_statement_pushed_twice_creates_one_invoice"
    )
    assert (
        "sink 'faulty-duplicates' created 2 invoices for 1 statement(s) pushed twice, the "
        "second time after a restart; each statement revision must create exactly one invoice"
    ) in message, message


def test_what_the_faulty_plugins_do_right_still_passes(faulty_run: PytestRun) -> None:
    """The kit fails what is wrong, not everything: the protocols, for one, are met."""
    for test in (
        "TestFaultyRenderer::test_satisfies_the_renderer_protocol",
        "TestFaultyRenderer::test_renders_non_empty_bytes[txt-open]",
        "TestFloatProvider::test_satisfies_the_provider_protocol",
        "TestFloatProvider::test_currency_is_iso_4217_and_category_is_focus",
        "TestDuplicatingSink::test_satisfies_the_sink_protocol",
        "TestDuplicatingSink::test_push_returns_one_result_per_statement",
    ):
        assert test in faulty_run.passed, (test, faulty_run.failures.get(test))
