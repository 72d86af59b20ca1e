"""Issue 18, defect 9 (provider half): text a provider row puts into a charge must fit
storage on every database.

Refused, with file, line and column: NUL and other control characters anywhere, and an
identifier (account, usage type / SKU, invoice, service) longer than its column. Cut with
a warning: a descriptive name (product, seller) longer than its column, because it only
labels a statement line and a reseller cannot make the cloud shorten it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from connector_aws import AwsCurProvider
from connector_azure import AzureCostProvider, AzureCspProvider
from connector_focus import FocusProvider
from sqlalchemy import String

from connector.contracts import CHARGE_TEXT_LIMITS, SourceDataError
from connector.storage.models import Charge
from tests.providers import azure_files, csp_files
from tests.providers.cur_files import row, write_cur
from tests.providers.focus_files import FIXTURES as FOCUS_FIXTURES
from tests.providers.focus_files import read_rows
from tests.providers.focus_files import write_csv as write_focus

LONG_USAGE_TYPE = "USE1-" + "BoxUsage" * 50  # 405 characters
LONG_PRODUCT_NAME = "Amazon Elastic Compute Cloud " * 11  # 319 characters


def fetch(provider_class, folder: Path):
    return list(provider_class({"path": str(folder)}, folder).fetch())


def refusal(provider_class, folder: Path) -> str:
    with pytest.raises(SourceDataError) as caught:
        fetch(provider_class, folder)
    return str(caught.value)


def test_the_limits_are_the_storage_columns_lengths():
    for name, limit in CHARGE_TEXT_LIMITS.items():
        column_type = Charge.__table__.c[name].type
        assert isinstance(column_type, String) and column_type.length == limit, name


def test_aws_usage_type_longer_than_its_column_is_refused_naming_file_line_column(tmp_path):
    path = write_cur(tmp_path / "cur.csv", [row(), row(usage_type=LONG_USAGE_TYPE)])
    assert refusal(AwsCurProvider, tmp_path) == (
        f"{path}: line 3, column lineItem/UsageType is 405 characters long; it must be at most 300"
    )


def test_aws_product_name_longer_than_its_column_is_cut_with_a_warning(tmp_path, caplog):
    path = write_cur(tmp_path / "cur.csv", [row(product_name=LONG_PRODUCT_NAME)])
    with caplog.at_level(logging.WARNING):
        (batch,) = fetch(AwsCurProvider, tmp_path)
    (charge,) = batch.charges
    assert len(charge.service_category) == 200
    assert charge.service_category == LONG_PRODUCT_NAME[:199] + "\u2026"
    assert f"{path}: line 2, column product/ProductName is 319 characters long" in caplog.text


def test_aws_nul_character_is_refused(tmp_path):
    path = write_cur(tmp_path / "cur.csv", [row(account="1111\x0011111111")])
    assert refusal(AwsCurProvider, tmp_path).startswith(
        f"{path}: line 2, column lineItem/UsageAccountId holds the control character U+0000"
    )


def test_focus_sku_with_a_control_character_is_refused(tmp_path):
    header, rows = read_rows(FOCUS_FIXTURES / "focus_1_0_aws.csv")
    rows[2]["SkuId"] = "SKU\x07BELL"
    path = write_focus(tmp_path / "focus.csv", header, rows)
    assert refusal(FocusProvider, tmp_path).startswith(
        f"{path}: line 4, column SkuId holds the control character U+0007"
    )


def test_azure_meter_longer_than_a_sku_is_refused(tmp_path):
    path = azure_files.write_csv(
        tmp_path / "oct.csv", [azure_files.mca_row(), azure_files.mca_row(meterName="m" * 301)]
    )
    assert refusal(AzureCostProvider, tmp_path).startswith(f"{path}: line 3, column meterName is ")


def test_csp_invoice_number_longer_than_its_column_is_refused(tmp_path):
    path = csp_files.write_csv(
        tmp_path / "recon.csv", [csp_files.csp_row(InvoiceNumber="G" + "0" * 200)]
    )
    assert refusal(AzureCspProvider, tmp_path) == (
        f"{path}: line 2, field InvoiceNumber is 201 characters long; it must be at most 128"
    )
