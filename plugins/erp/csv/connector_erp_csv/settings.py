"""The sink's tenant settings, and the per-statement mapping they resolve to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from connector.contracts import StatementDocument

# strftime patterns without locale-dependent fields, so the file is the same everywhere.
DATE_FORMATS = {
    "yyyy-mm-dd": "%Y-%m-%d",
    "dd/mm/yyyy": "%d/%m/%Y",
    "mm/dd/yyyy": "%m/%d/%Y",
}


class CsvSinkSettings(BaseModel):
    """``erp.settings`` of a tenant whose sink is ``csv``.

    :param template: the accounting system's import format: ``xero`` (sales invoices)
        or ``quickbooks`` (QuickBooks Online's invoice import). Adding one is a new
        template module, a line in ``templates.TEMPLATES`` and a value here.
    :param output_dir: where import files go; relative to the daemon's output directory
        for the tenant unless absolute.
    :param account_code: revenue account for every line, unless the statement's
        ``erp_mappings["account_code"]`` says otherwise. QuickBooks takes the account
        from the product/service instead (``erp_mappings["item_code"]``).
    :param tax_type: the ERP's tax rate for taxed lines (``erp_mappings["tax_type"]``);
        QuickBooks' tax code, ``TAX`` for a US company.
    :param exempt_tax_type: the ERP's rate for lines that carry no tax: marketplace
        pass-through, credits, $0.00 lines, and every line of a statement without tax
        (``erp_mappings["exempt_tax_type"]``); ``NON`` for a US QuickBooks company.
    :param date_format: ISO by default: it cannot be misread, whereas a regional format
        guessed wrong silently swaps day and month for the 1st to the 12th. Set the
        organisation's own format (Settings > General Settings in Xero; the date format
        chosen in QuickBooks' import) if its import rejects ISO dates.
    """

    model_config = ConfigDict(extra="forbid")

    template: Literal["xero", "quickbooks"] = "xero"
    output_dir: str = "erp"
    account_code: str = "200"
    tax_type: str = "Tax on Sales"
    exempt_tax_type: str = "Tax Exempt"
    date_format: Literal["yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy"] = "yyyy-mm-dd"

    @field_validator("output_dir")
    @classmethod
    def _inside_when_relative(cls, value: str) -> str:
        # A relative folder is the tenant's place in the connector's output folder:
        # '..' would write the import files (every customer's billing) elsewhere.
        if not PurePath(value).is_absolute() and ".." in PurePath(value).parts:
            raise ValueError(
                f"{value!r} climbs out of the connector's output folder: give a folder "
                "inside it (like erp) or an absolute path"
            )
        return value


@dataclass(frozen=True, slots=True)
class InvoiceMapping:
    """The ERP codes one statement is exported with: settings, overridden by its mappings."""

    contact_name: str
    account_code: str
    tax_type: str
    exempt_tax_type: str
    item_code: str
    date_pattern: str


def resolve_mapping(settings: CsvSinkSettings, document: StatementDocument) -> InvoiceMapping:
    """Settings overridden by ``document.erp_mappings``; an empty mapping value is ignored."""
    mappings = document.erp_mappings

    def pick(key: str, default: str) -> str:
        return mappings.get(key) or default

    return InvoiceMapping(
        contact_name=pick("contact_name", document.customer.name),
        account_code=pick("account_code", settings.account_code),
        tax_type=pick("tax_type", settings.tax_type),
        exempt_tax_type=pick("exempt_tax_type", settings.exempt_tax_type),
        item_code=pick("item_code", ""),
        date_pattern=DATE_FORMATS[settings.date_format],
    )
