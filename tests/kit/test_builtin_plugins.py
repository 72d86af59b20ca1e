"""Every built-in plugin passes the conformance kit, exactly as a third party's would.

Providers and sinks need settings and sample data, so each has its line below; renderers
need nothing, so one suite is generated for every renderer a built-in distribution
registers (a new built-in renderer is checked without touching this file).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from connector_aws import AwsCurProvider
from connector_azure import AzureCostProvider
from connector_azure.csp import AzureCspProvider
from connector_erp_csv.plugin import CsvSink

from connector.contracts import SinkContext
from connector.plugins import load_plugins
from connector.testing import provider_test_class, renderer_test_class, sink_test_class
from tests.providers.azure_files import mca_row, write_csv
from tests.providers.cur_files import NOVEMBER, row, write_cur

BUILT_IN_PREFIX = "billing-connector-"


def aws_cur_folder(folder: Path) -> dict[str, str]:
    """October (invoiced, with a marketplace product and a credit) and November (open)."""
    write_cur(
        folder / "cur" / "report-00001.csv.gz",
        [
            row(line_item_id="a", cost="12.3456789012"),
            row(line_item_id="b", account="222222222222", product="AmazonS3",
                usage_type="USE1-TimedStorage-ByteHrs", cost="0.0000000001"),
            row(line_item_id="c", entity="AWS Marketplace", product="prod-xyz",
                product_name="Datadog Pro", legal="Datadog, Inc.", cost="184.0000000000"),
            row(line_item_id="d", type="Credit", cost="-5.0000000000"),
            row(line_item_id="e", invoice="", cost="3.5000000000", **NOVEMBER),
        ],
    )  # fmt: skip
    return {"path": "cur"}


def azure_export_folder(folder: Path) -> dict[str, str]:
    """An MCA export over September and October 2026 (calendar periods, Billing Day 31)."""
    write_csv(
        folder / "exports" / "mca-2026-09.csv",
        [
            mca_row(date="2026-09-01", costInBillingCurrency="1.234567890123"),
            mca_row(date="2026-09-30", subscriptionId="sub-bbbb", costInBillingCurrency="0.5"),
            mca_row(date="2026-10-01", quantity="2", costInBillingCurrency="0.2"),
        ],
    )
    return {"path": "exports"}


# Partner Center reconciliation lines: September invoiced (G001), October not yet.
CSP_RECONCILIATION = """\
PartnerId,CustomerId,InvoiceNumber,ProductName,ChargeType,Subtotal,TaxTotal,Currency,\
ChargeStartDate,ChargeEndDate,SkuName,Quantity,PublisherName
p-1,cust-a,G001,Microsoft 365 E3,new,30.5000,0,USD,2026-09-01,2026-09-30,E3,1,Microsoft
p-1,cust-b,G001,Azure plan,usage,12.123456,0,USD,2026-09-15,2026-09-15,D2,3,Microsoft
p-1,cust-a,,Microsoft 365 E3,renew,30.5000,0,USD,2026-10-01,2026-10-31,E3,1,Microsoft
"""


def azure_csp_folder(folder: Path) -> dict[str, str]:
    """A Partner Center reconciliation CSV over September and October 2026."""
    (folder / "csp").mkdir()
    (folder / "csp" / "reconciliation.csv").write_text(CSP_RECONCILIATION, encoding="utf-8")
    return {"path": "csp"}


def count_xero_invoices(context: SinkContext) -> int:
    """Distinct invoice numbers in every import file below the output folder: what Xero
    would create importing them all (rows sharing a number form one invoice)."""
    numbers = set()
    for path in context.output_dir.rglob("*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            numbers.update(r["*InvoiceNumber"] for r in csv.DictReader(handle))
    return len(numbers)


TestAwsProvider = provider_test_class(AwsCurProvider, settings=aws_cur_folder)
TestAzureProvider = provider_test_class(AzureCostProvider, settings=azure_export_folder)
TestAzureCspProvider = provider_test_class(AzureCspProvider, settings=azure_csp_folder)
TestCsvSink = sink_test_class(CsvSink, settings={}, count_invoices=count_xero_invoices)


def built_in_classes(kind: str) -> dict[str, type]:
    """The classes of ``kind`` ("providers", "sinks", "renderers") that built-in
    distributions register, by their ``name``."""
    host = load_plugins()
    distributions = {record.name: record.distribution for record in host.pm.records}
    registry = getattr(host, kind)
    return {
        registry.get(key).name: registry.get(key)
        for key in registry.names()
        if distributions.get(registry.owner(key), "").startswith(BUILT_IN_PREFIX)
    }


RENDERERS = built_in_classes("renderers")
for _name, _cls in RENDERERS.items():
    globals()[f"Test{_name.title().replace('-', '')}Renderer"] = renderer_test_class(_cls)


def suites_under_tests() -> set[str]:
    """Names of the classes some test module under tests/ runs the kit on.

    Read from the source (``provider_test_class(ClassName``), so suites kept beside a
    plugin's other tests (with the fixtures they need, such as an API stand-in) count.
    """
    pattern = re.compile(r"\b(?:provider|sink)_test_class\(\s*(\w+)")
    tests = Path(__file__).resolve().parents[1]
    return {name for path in tests.rglob("test_*.py") for name in pattern.findall(path.read_text())}


def test_the_csv_and_pdf_renderers_are_among_the_generated_suites() -> None:
    assert {"csv", "pdf"} <= set(RENDERERS), RENDERERS


def test_every_built_in_provider_and_sink_has_a_kit_suite_in_the_tests() -> None:
    checked = suites_under_tests()
    assert {"AwsCurProvider", "CsvSink"} <= checked
    missing = {
        f"{kind[:-1]} {name} ({cls.__module__}.{cls.__qualname__})"
        for kind in ("providers", "sinks")
        for name, cls in built_in_classes(kind).items()
        # A suite may run on a test subclass of the plugin's class (KitXeroSink).
        if not any(name_checked.endswith(cls.__name__) for name_checked in checked)
    }
    assert not missing, (
        f"built-in plugins no test module runs the conformance kit on: {sorted(missing)}; "
        "add e.g. TestMyProvider = provider_test_class(MyProvider, settings=...) to their tests"
    )
