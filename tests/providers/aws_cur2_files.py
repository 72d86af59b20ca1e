"""CUR 2.0 (Data Exports) rows and Parquet CUR files for the aws provider's tests.

Rows use the same short names as :mod:`tests.providers.cur_files`; CUR 2.0 spells the
columns in snake_case and holds the product's attributes and the resource tags in MAP
columns (JSON objects in CSV). Parquet files are written by DuckDB's ``COPY`` from a
CSV, with the types real exports use: DOUBLE costs, TIMESTAMP dates, MAP maps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import duckdb

from tests.providers.cur_files import DEFAULTS, HEADER, write_cur
from tests.providers.export_files import with_defaults

# Short name -> CUR 2.0 column. The product name lives in the "product" map.
CUR2_COLUMNS = {
    "line_item_id": "identity_line_item_id",
    "invoice": "bill_invoice_id",
    "entity": "bill_billing_entity",
    "payer": "bill_payer_account_id",
    "period_start": "bill_billing_period_start_date",
    "period_end": "bill_billing_period_end_date",
    "account": "line_item_usage_account_id",
    "type": "line_item_line_item_type",
    "start": "line_item_usage_start_date",
    "end": "line_item_usage_end_date",
    "product": "line_item_product_code",
    "usage_type": "line_item_usage_type",
    "amount": "line_item_usage_amount",
    "currency": "line_item_currency_code",
    "cost": "line_item_unblended_cost",
    "legal": "line_item_legal_entity",
    "public_cost": "pricing_public_on_demand_cost",
    "reservation": "reservation_reservation_a_r_n",
}
CUR2_HEADER = [*CUR2_COLUMNS.values(), "product", "resource_tags"]
LEGACY_RESERVATION = "reservation/ReservationARN"

MONEY = {"line_item_unblended_cost", "line_item_usage_amount", "pricing_public_on_demand_cost"}
MONEY_LEGACY = {"lineItem/UnblendedCost", "lineItem/UsageAmount", "pricing/publicOnDemandCost"}
DATES = {
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
}


def cur2_row(**values: str) -> dict[str, str]:
    """A CUR 2.0 row from the legacy defaults overridden by short names."""
    merged = with_defaults({**DEFAULTS, "reservation": ""}, values, "short column names")
    result = {CUR2_COLUMNS[k]: v for k, v in merged.items() if k in CUR2_COLUMNS}
    result["product"] = json.dumps({"product_name": merged["product_name"], "region": "us-east-1"})
    result["resource_tags"] = json.dumps({"user_team": "web"})
    return result


def write_cur2_csv(path: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    """A CUR 2.0 CSV (gzip when ``path`` ends in .gz)."""
    return write_cur(path, rows, header=CUR2_HEADER)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_parquet(
    path: Path,
    rows: Iterable[Mapping[str, str]],
    header: Sequence[str] = HEADER,
    *,
    money_as: str = "DOUBLE",
) -> Path:
    """Write ``rows`` as Parquet with DuckDB, typed like a real export.

    Costs and amounts become ``money_as`` (DOUBLE in real exports), dates TIMESTAMP,
    the CUR 2.0 ``product`` / ``resource_tags`` JSON becomes MAP(VARCHAR, VARCHAR), the
    rest VARCHAR. Empty values become NULL.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = write_cur(path.with_name(path.name + ".staging.csv"), rows, header=header)
    selects = []
    for name in header:
        value = f"nullif({_quoted(name)}, '')"
        if name in MONEY or name in MONEY_LEGACY:
            value = f"CAST({value} AS {money_as})"
        elif name in DATES or name.endswith("Date"):
            value = f"CAST({value} AS TIMESTAMP)"
        elif name in ("product", "resource_tags"):
            value = f"CAST(json({value}) AS MAP(VARCHAR, VARCHAR))"
        selects.append(f"{value} AS {_quoted(name)}")
    with duckdb.connect(":memory:") as con:
        con.execute(
            f"COPY (SELECT {', '.join(selects)} FROM read_csv(?, all_varchar = true, "
            f"header = true)) TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)",
            [str(staging)],
        )
    staging.unlink()
    return path
