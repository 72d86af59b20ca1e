"""The azure provider refuses files that are not whole EA / MCA cost-details exports.

Each refusal is a SourceDataError naming the file and saying what is wrong, and nothing
is yielded: a good file for another period in the same folder gives no partial batch.
"""

from __future__ import annotations

import gzip
import zlib

import pytest
from connector_azure import AzureCostProvider

from connector.contracts import SourceDataError
from tests.providers.azure_files import mca_row, write_csv
from tests.providers.fetching import FolderFetch

fetch = FolderFetch(AzureCostProvider)


def varied_rows(count: int) -> list[dict[str, str]]:
    """Rows that do not compress to nothing, so that half a gzip stream holds many lines."""
    return [
        mca_row(
            date=f"2026-10-{1 + i % 28:02d}",
            subscriptionId=f"sub-{i * 31 % 97}",
            costInBillingCurrency=f"{i}.{i * 7919 % 10000:04d}",
        )
        for i in range(count)
    ]


# ---------------------------------------------------------------------------
# Truncated gzip
# ---------------------------------------------------------------------------


def test_truncated_gzip_is_a_source_data_error_and_yields_nothing(tmp_path):
    # September is a good file; October's download was cut off half-way.
    write_csv(tmp_path / "sep.csv", [mca_row(date="2026-09-03")])
    whole = gzip.compress(write_csv(tmp_path / "src" / "oct.csv", varied_rows(3000)).read_bytes())
    cut = whole[: len(whole) // 2]
    (tmp_path / "oct.csv.gz").write_bytes(cut)
    # The lines that can be decompressed before the cut, counted with zlib itself.
    complete_lines = zlib.decompressobj(wbits=31).decompress(cut).count(b"\n")
    assert 1 < complete_lines < 3001

    message = fetch.refusal(tmp_path)

    assert message.startswith(f"{tmp_path / 'oct.csv.gz'}: truncated or corrupt gzip file")
    assert f"cut off or damaged after line {complete_lines} " in message
    assert "Compressed file ended before the end-of-stream marker was reached" in message
    assert message.endswith("nothing was ingested: download the export again")
    assert "IO Error" not in message  # DuckDB's own words are replaced


def test_gzip_cut_off_inside_the_header_names_the_file(tmp_path):
    whole = gzip.compress(write_csv(tmp_path / "src" / "oct.csv", [mca_row()]).read_bytes())
    (tmp_path / "oct.csv.gz").write_bytes(whole[:12])
    message = fetch.refusal(tmp_path)
    assert message.startswith(
        f"{tmp_path / 'oct.csv.gz'}: not a gzip file, or a truncated or corrupt one ("
    )
    assert "must be complete gzip-compressed CSV: download it again" in message


def test_damaged_gzip_data_is_reported_as_damage_not_as_a_bad_row(tmp_path):
    whole = bytearray(gzip.compress(write_csv(tmp_path / "src" / "o.csv", varied_rows(3000))
                                    .read_bytes()))  # fmt: skip
    middle = len(whole) // 2
    whole[middle : middle + 64] = bytes(64)  # zeroes over the deflate data
    (tmp_path / "oct.csv.gz").write_bytes(bytes(whole))
    message = fetch.refusal(tmp_path)
    # The damage decompresses to garbage rows before the stream fails its check: the
    # message names the damage, not the garbage.
    assert message.startswith(
        f"{tmp_path / 'oct.csv.gz'}: truncated or corrupt gzip file: the data is cut off or "
        f"damaged ("
    )
    assert message.endswith("nothing was ingested: download the export again")
    assert "fields but the header has" not in message


# ---------------------------------------------------------------------------
# Empty files
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("blank.csv", b"\r\n"),
        ("bom-only.csv", b"\xef\xbb\xbf"),
        ("empty.csv.gz", b""),
        ("empty-inside.csv.gz", gzip.compress(b"", mtime=0)),
    ],
)
def test_empty_file_is_refused_naming_it(tmp_path, name, content):
    write_csv(tmp_path / "sep.csv", [mca_row(date="2026-09-03")])
    (tmp_path / name).write_bytes(content)
    message = fetch.refusal(tmp_path)
    assert message == (
        f"{tmp_path / name}: the file is empty; an Azure cost-details export starts with a "
        f"header line such as BillingAccountId,BillingAccountName,..."
    )


def test_header_only_export_is_refused_as_having_no_data_rows(tmp_path):
    """Issue 18: an export holding only its header is an incomplete or failed export
    (it would otherwise silently bill nothing), never a month without usage."""
    write_csv(tmp_path / "oct.csv", [])
    with pytest.raises(SourceDataError, match=r"no data rows in .*oct\.csv"):
        list(AzureCostProvider({"path": str(tmp_path)}, tmp_path).fetch())


# ---------------------------------------------------------------------------
# Another provider's file in the folder
# ---------------------------------------------------------------------------

AWS_CUR_HEADER = (
    "identity/LineItemId,identity/TimeInterval,bill/InvoiceId,bill/BillingEntity,"
    "bill/PayerAccountId,lineItem/UsageAccountId,lineItem/LineItemType,"
    "lineItem/UsageStartDate,lineItem/ProductCode,lineItem/UsageType,"
    "lineItem/UnblendedCost,lineItem/CurrencyCode"
)
AWS_CUR_ROW = (
    "a1,2026-10-01T00:00:00Z/2026-10-02T00:00:00Z,123,AWS,111111111111,222222222222,Usage,"
    "2026-10-01T00:00:00Z,AmazonEC2,BoxUsage:t3.micro,0.25,USD"
)
AWS_CUR2_HEADER = (
    "bill_invoice_id,bill_payer_account_id,line_item_usage_account_id,"
    "line_item_line_item_type,line_item_usage_start_date,line_item_product_code,"
    "line_item_usage_type,line_item_unblended_cost,line_item_currency_code"
)
AWS_CUR2_ROW = "123,111111111111,222222222222,Usage,2026-10-01T00:00:00Z,AmazonEC2,x,0.25,USD"
# Microsoft's own FOCUS export: it shares BillingAccountId and BillingCurrency with the
# cost-details export, so only the FOCUS columns tell them apart.
FOCUS_HEADER = (
    "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodStart,"
    "BillingPeriodEnd,ChargeCategory,ChargeDescription,ChargePeriodStart,ChargePeriodEnd,"
    "EffectiveCost,ListCost,ProviderName,PublisherName,ServiceCategory,ServiceName,"
    "SubAccountId,x_BillingProfileId"
)
FOCUS_ROW = (
    "0.25,ba-1,Contoso,USD,2026-10-01,2026-11-01,Usage,VM,2026-10-01,2026-10-02,0.25,0.3,"
    "Microsoft,Microsoft,Compute,Virtual Machines,sub-a,bp-1"
)
CSP_HEADER = (
    "PartnerId,CustomerId,CustomerName,InvoiceNumber,ProductName,ChargeType,UnitPrice,"
    "Quantity,Subtotal,TaxTotal,Total,Currency,ChargeStartDate,ChargeEndDate"
)
CSP_ROW = "p-1,c-1,Fabrikam,G001,Azure plan,usage,1,1,1,0,1,USD,10/1/2026,10/31/2026"


@pytest.mark.parametrize(
    ("name", "header", "row", "looks_like"),
    [
        ("cur.csv", AWS_CUR_HEADER, AWS_CUR_ROW,
         "an AWS Cost and Usage Report (legacy CUR)"),
        ("cur2.csv", AWS_CUR2_HEADER, AWS_CUR2_ROW, "an AWS CUR 2.0 / Data Exports file"),
        ("focus.csv", FOCUS_HEADER, FOCUS_ROW, "a FOCUS cost export (provider focus)"),
        ("csp.csv", CSP_HEADER, CSP_ROW,
         "a Partner Center (CSP) invoice reconciliation file (provider azure-csp)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("compressed", [False, True])
def test_another_providers_file_is_refused_saying_what_it_looks_like(
    tmp_path, name, header, row, looks_like, compressed
):
    write_csv(tmp_path / "sep.csv", [mca_row(date="2026-09-03")])
    content = f"{header}\r\n{row}\r\n".encode()
    if compressed:
        name, content = name + ".gz", gzip.compress(content)
    (tmp_path / name).write_bytes(content)
    message = fetch.refusal(tmp_path)
    assert message == (
        f"{tmp_path / name}: this looks like {looks_like}, not an Azure EA / MCA "
        f"cost-details export; move it out of the azure provider's folder (or narrow its "
        f"pattern)"
    )
