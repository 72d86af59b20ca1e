"""Cross-reference checks of a tenant file: ids that must be unique or must exist.

They run on the plain data read from YAML, not on validated models, so that the loader
can report them together with every type error in the same file: a customer with a
misspelt key still has its accounts checked against the other customers'.
Anything of the wrong shape is skipped here; model validation reports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


def _mapping(value: Any) -> Mapping[Any, Any] | None:
    return value if isinstance(value, Mapping) else None


def _items(value: Any) -> list[tuple[int, Mapping[Any, Any]]]:
    """The mapping entries of a list, with their indexes; other entries are skipped."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, Mapping)]
    return []


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _listing(names: Any) -> str:
    names = sorted(str(n) for n in names)
    return ", ".join(names) if names else "none defined"


def cross_reference_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every broken reference and duplicate id in tenant data, as ``(loc, message)``.

    ``loc`` is a key path into ``data`` as pydantic would write it, so the loader can
    find its line in the YAML.
    """
    providers = _mapping(data.get("providers"))
    plugins: dict[str, str] = {}
    if providers is not None:
        for key, cfg in providers.items():
            plugin = _mapping(cfg) and cfg.get("plugin")
            plugins[str(key)] = plugin if isinstance(plugin, str) else str(key)

    problems: list[Problem] = []
    books = _check_pricebooks(data, providers, plugins, problems)
    tax_names = _check_tax_rates(data, problems)
    plans = set(_unique_names(data, "support_plans", "support plan id", problems, key="id"))
    _check_customers(data, providers, plugins, books, tax_names, problems)
    _unique_names(data, "webhooks", "webhook name", problems)  # `connector webhooks` uses them
    for i, customer in _items(data.get("customers")):
        plan = _text(customer.get("support_plan"))
        if plan is not None and plan not in plans:
            problems.append(
                (
                    ("customers", i, "support_plan"),
                    f"no support plan with id {plan!r} (support_plans: {_listing(plans - {None})})",
                )
            )
    return problems


def _check_pricebooks(
    data: Mapping[str, Any],
    providers: Mapping[Any, Any] | None,
    plugins: dict[str, str],
    problems: list[Problem],
) -> dict[str, str | None]:
    """Unique ids, known providers; returns pricebook id -> its provider."""
    books: dict[str, str | None] = {}
    first: dict[str, int] = {}
    for i, book in _items(data.get("pricebooks")):
        provider = book.get("provider")
        if (
            providers is not None
            and isinstance(provider, str)
            and provider not in plugins
            and provider not in plugins.values()
        ):
            problems.append(
                (
                    ("pricebooks", i, "provider"),
                    f"{provider!r} is not one of this tenant's providers ({_listing(plugins)})",
                )
            )
        book_id = _text(book.get("id"))
        if book_id is None:
            continue
        if book_id in first:
            problems.append(
                (
                    ("pricebooks", i, "id"),
                    f"pricebook id {book_id!r} is already used by pricebooks[{first[book_id]}]",
                )
            )
            continue
        first[book_id] = i
        books[book_id] = provider if isinstance(provider, str) else None
    return books


def _check_tax_rates(data: Mapping[str, Any], problems: list[Problem]) -> set[str]:
    return set(_unique_names(data, "tax_rates", "tax rate", problems, verb="defined"))


def _unique_names(
    data: Mapping[str, Any],
    section: str,
    what: str,
    problems: list[Problem],
    verb: str = "used",
    key: str = "name",
) -> dict[str, int]:
    """The ``key`` of each entry of ``section`` -> its index; a repeat is a problem."""
    names: dict[str, int] = {}
    for i, entry in _items(data.get(section)):
        name = _text(entry.get(key))
        if name is None:
            continue
        if name in names:
            problems.append(
                (
                    (section, i, key),
                    f"{what} {name!r} is already {verb} by {section}[{names[name]}]",
                )
            )
        else:
            names[name] = i
    return names


def _check_customers(
    data: Mapping[str, Any],
    providers: Mapping[Any, Any] | None,
    plugins: dict[str, str],
    books: dict[str, str | None],
    tax_names: set[str],
    problems: list[Problem],
) -> None:
    ids: dict[str, int] = {}
    # (provider key, account id) -> (customer index, label) of the first customer to claim it
    owners: dict[tuple[str, str], tuple[int, str]] = {}
    for i, customer in _items(data.get("customers")):
        here: Loc = ("customers", i)
        customer_id = _text(customer.get("id"))
        label = f"customer {customer_id or '?'}"
        if isinstance(customer.get("name"), str):
            label += f" ({customer['name']})"
        if customer_id is not None:
            if customer_id in ids:
                problems.append(
                    (
                        (*here, "id"),
                        f"customer id {customer_id} is already used by "
                        f"customers[{ids[customer_id]}]",
                    )
                )
            else:
                ids[customer_id] = i

        for key, book_id in (_mapping(customer.get("pricebooks")) or {}).items():
            loc = (*here, "pricebooks", str(key))
            if providers is not None and str(key) not in plugins:
                problems.append((loc, _unknown_provider(key, plugins)))
                continue
            book_id = _text(book_id)
            if book_id is None:
                continue
            if book_id not in books:
                problems.append(
                    (loc, f"no pricebook with id {book_id!r} (pricebooks: {_listing(books)})")
                )
            elif books[book_id] is not None and books[book_id] not in (
                str(key),
                plugins.get(str(key)),
            ):
                problems.append(
                    (loc, f"pricebook {book_id!r} is for provider {books[book_id]!r}, not {key!r}")
                )

        for key, account_ids in (_mapping(customer.get("accounts")) or {}).items():
            loc = (*here, "accounts", str(key))
            if providers is not None and str(key) not in plugins:
                problems.append((loc, _unknown_provider(key, plugins)))
                continue
            if not isinstance(account_ids, list):
                continue
            for j, account_id in enumerate(account_ids):
                if not isinstance(account_id, str):
                    continue
                owner = owners.get((str(key), account_id))
                if owner is None:
                    owners[(str(key), account_id)] = (i, label)
                elif owner[0] == i:
                    problems.append(((*loc, j), f"account {account_id} is listed twice"))
                else:
                    problems.append(
                        (
                            (*loc, j),
                            f"{key} account {account_id} is mapped to both {owner[1]} and {label}; "
                            "an account's spend belongs to exactly one customer",
                        )
                    )

        tax = customer.get("tax")
        if isinstance(tax, str) and tax not in tax_names:
            problems.append(
                ((*here, "tax"), f"no tax rate named {tax!r} (tax_rates: {_listing(tax_names)})")
            )


def billing_problems(data: Mapping[str, Any]) -> list[Problem]:
    """What lets the tenant load but stops a customer's statements, as ``(loc, message)``.

    A customer with accounts for a provider and no pricebook for it cannot be priced:
    the build names it with the seeds' error and builds the other customers, so the
    tenant still loads; ``check-config`` reports it, at the customer, with the key
    that fixes it. Unknown providers and pricebooks are cross-reference problems.
    """
    providers = _mapping(data.get("providers"))
    books_of: dict[str, list[str]] = {}
    for _, book in _items(data.get("pricebooks")):
        book_id, provider = _text(book.get("id")), book.get("provider")
        if book_id is not None and isinstance(provider, str):
            books_of.setdefault(provider, []).append(book_id)
    problems: list[Problem] = []
    for i, customer in _items(data.get("customers")):
        priced = _mapping(customer.get("pricebooks")) or {}
        accounts = _mapping(customer.get("accounts")) or {}
        for key, account_ids in accounts.items():
            if not isinstance(account_ids, list) or not account_ids or key in priced:
                continue
            if providers is not None and key not in providers:
                continue  # an unknown provider is reported as such
            plugin = _mapping(providers.get(key)) if providers is not None else None
            plugin_name = plugin.get("plugin") if plugin is not None else None
            found = books_of.get(str(key), []) + books_of.get(str(plugin_name), [])
            candidates = list(dict.fromkeys(found))
            example = candidates[0] if candidates else "<pricebook id>"
            customer_id = _text(customer.get("id")) or "?"
            problems.append(
                (
                    ("customers", i),
                    f"customer {customer_id} has {key} accounts but no pricebook for {key!r}, "
                    f"so its {key} statements cannot be built: add "
                    f"customers[{i}].pricebooks.{key}: {example} "
                    f"(pricebooks for {key}: {_listing(candidates)})",
                )
            )
    return problems


def _unknown_provider(key: Any, plugins: dict[str, str]) -> str:
    return (
        f"{key!r} is not one of this tenant's providers ({_listing(plugins)}); "
        "add it under providers: or fix the name"
    )
