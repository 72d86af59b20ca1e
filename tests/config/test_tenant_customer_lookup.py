"""``TenantConfig.customer`` finds a customer by id without walking the list (the push
asks once per statement), and still sees customers added or replaced after loading."""

from __future__ import annotations

import pytest

from connector.config import TenantConfig


class CountedList(list):  # type: ignore[type-arg]
    """A list that counts the walks over it."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        CountedList.walks += 1
        return super().__iter__()

    def __reversed__(self):  # type: ignore[no-untyped-def]
        CountedList.walks += 1
        return super().__reversed__()


def _tenant(count: int) -> TenantConfig:
    return TenantConfig.model_validate({
        "tenant": "t",
        "profile": {"name": "T"},
        "providers": {"aws": {}},
        "erp": {"sink": "csv"},
        "customers": [
            {"id": n, "name": f"C{n}", "invoice_currency": "USD", "accounts": {"aws": [str(n)]}}
            for n in range(count)
        ],
    })  # fmt: skip


def test_looking_up_every_customer_walks_the_list_at_most_once() -> None:
    tenant = _tenant(300)
    tenant.customers = CountedList(tenant.customers)
    CountedList.walks = 0
    for n in range(300):
        assert tenant.customer(str(n)).name == f"C{n}"
    assert CountedList.walks <= 1


def test_a_customer_added_or_replaced_after_loading_is_found() -> None:
    tenant = _tenant(3)
    assert tenant.customer("1").name == "C1"
    tenant.customers.append(tenant.customers[0].model_copy(update={"id": "9", "name": "New"}))
    assert tenant.customer("9").name == "New"
    tenant.customers[1] = tenant.customers[1].model_copy(update={"name": "Renamed"})
    assert tenant.customer("1").name == "Renamed"
    tenant.customers.pop(0)
    assert tenant.customer("2").name == "C2"
    with pytest.raises(KeyError, match="no customer with id '0'"):
        tenant.customer("0")
