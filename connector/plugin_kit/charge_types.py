"""A provider's own charge types in FOCUS terms, and what a type it does not know becomes.

Each cloud names its charges its own way (AWS ``lineItem/LineItemType``, Azure
``ChargeType``, Partner Center ``ChargeType``) and adds new names from time to time. A
provider maps the names it knows to a FOCUS ``(ChargeCategory, ChargeClass)``; a name it
does not know is neither usage a customer should be marked up on nor a purchase, so
:data:`UNKNOWN` (Adjustment) keeps it visible in reconciliation without pricing it, and
:class:`ChargeTypes` warns once per name so that the operator asks for the table to be
extended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

from connector.contracts import ChargeCategory

#: FOCUS ChargeClass of a charge that corrects one billed before (a refund).
CORRECTION = "Correction"
#: What a charge type a provider does not know maps to.
UNKNOWN: tuple[ChargeCategory, str | None] = (ChargeCategory.ADJUSTMENT, None)


class ChargeTypes:
    """A provider's table of charge types, looked up by ``key(charge_type)``.

    :param what: what the provider calls the type, for the warning ("AWS CUR line item
        type").
    :param table: ``key(charge_type)`` -> ``(ChargeCategory, ChargeClass)``.
    :param log: the provider's logger, which the warning goes to.
    :param key: how a type is matched (the type as written, by default).
    :param effect: what becomes of an unknown type, in the warning.
    """

    def __init__(
        self,
        what: str,
        table: Mapping[str, tuple[ChargeCategory, str | None]],
        log: logging.Logger,
        key: Callable[[str], str] = str,
        effect: str = "not priced, shown in reconciliation",
    ) -> None:
        self.what = what
        self.table = dict(table)
        self.log = log
        self.key = key
        self.effect = effect
        self._warned: set[str] = set()

    @classmethod
    def by_category(
        cls,
        what: str,
        categories: Mapping[ChargeCategory, Iterable[str]],
        log: logging.Logger,
        corrections: Iterable[str] = (),
        key: Callable[[str], str] = str,
    ) -> ChargeTypes:
        """The table written by category: each type of ``categories[category]`` maps to
        ``(category, None)``, each of ``corrections`` (a refund) to ``(Credit,``
        :data:`CORRECTION` ``)``. Types are written as ``key`` gives them."""
        table = {kind: (category, None) for category, kinds in categories.items() for kind in kinds}
        table |= {kind: (ChargeCategory.CREDIT, CORRECTION) for kind in corrections}
        return cls(what, table, log, key)

    def category(self, charge_type: str) -> tuple[ChargeCategory, str | None]:
        """FOCUS ``(ChargeCategory, ChargeClass)`` of ``charge_type``; :meth:`unknown`'s
        answer for a type the table lacks."""
        mapped = self.table.get(self.key(charge_type))
        return mapped if mapped is not None else self.unknown(charge_type)

    def unknown(
        self, charge_type: str, warn_key: str | None = None
    ) -> tuple[ChargeCategory, str | None]:
        """:data:`UNKNOWN`, with a warning the first time ``warn_key`` (default: the type
        as written) is met."""
        seen = charge_type if warn_key is None else warn_key
        if seen not in self._warned:
            self._warned.add(seen)
            self.log.warning(
                "%s %r is unknown to this version; it is treated as an Adjustment (%s)",
                self.what,
                charge_type,
                self.effect,
            )
        return UNKNOWN
