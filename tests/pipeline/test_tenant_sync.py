"""Mirroring the tenant file into the database writes exactly what changed."""

from __future__ import annotations

from sqlalchemy import select

from connector.runtime.tenants import sync_tenant
from connector.storage import models as m


def stored(runtime) -> tuple[dict, dict]:
    with runtime.db.transaction() as session:
        customers = {
            c: (name, cur)
            for c, name, cur in session.execute(
                select(m.Customer.id, m.Customer.name, m.Customer.invoice_currency)
            )
        }
        query = select(m.ProviderAccount.account_id, m.ProviderAccount.customer_id)
        accounts = {account: customer for account, customer in session.execute(query)}
    return customers, accounts


def sync(runtime) -> None:
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("acme"))


def test_renames_moved_accounts_and_new_customers_are_mirrored(runtime) -> None:
    sync(runtime)
    customers, accounts = stored(runtime)
    assert accounts == {"111111111111": "1001", "222222222222": "1001",
                        "333333333333": "1002", "444444444444": "1003"}  # fmt: skip
    config = runtime.tenant("acme")
    first, second = config.customer("1001"), config.customer("1002")
    first.name = "Contoso Holdings"
    first.accounts["aws"] = ["111111111111"]
    second.accounts["aws"] = ["333333333333", "222222222222"]  # moved from 1001
    newcomer = second.model_copy(update={"id": "1004", "name": "Fabrikam", "accounts": {
        "aws": ["666666666666"]}, "invoice_currency": "EUR"})  # fmt: skip
    config.customers.append(newcomer)
    sync(runtime)
    sync(runtime)  # a second sync of the same file changes nothing
    customers, accounts = stored(runtime)
    assert customers["1001"] == ("Contoso Holdings", "USD")
    assert customers["1004"] == ("Fabrikam", "EUR")
    assert accounts == {"111111111111": "1001", "222222222222": "1002",
                        "333333333333": "1002", "444444444444": "1003",
                        "666666666666": "1004"}  # fmt: skip
