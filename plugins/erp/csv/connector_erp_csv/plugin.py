"""The ``csv`` ERP sink and its registration hook (entry point ``csv-sink``).

Each ``push`` writes one import file, ``<tenant>-<template>-invoices-<run id>.csv``
(template ``xero`` or ``quickbooks``), holding every statement of that call not
exported before. Which statement revision went into which file is kept in
``.pushed.json`` and its journal ``.pushed.journal`` beside the files (see
:mod:`.ledger`). A statement a template cannot represent is refused with a permanent
result: the same revision never could be.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError

from connector.contracts import (
    ClassRegistry,
    PluginError,
    PushResult,
    SinkContext,
    StatementDocument,
    hookimpl,
)
from connector.plugin_kit.sinks import draft_refusal, failed
from connector_erp_csv.files import (
    atomic_write,
    directory_lock,
    remove_temporaries,
    safe_name,
    to_csv_bytes,
)
from connector_erp_csv.ledger import Export, ExportLedger
from connector_erp_csv.settings import CsvSinkSettings, resolve_mapping
from connector_erp_csv.templates import TEMPLATES

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)

log = logging.getLogger(__name__)


class CsvSink:
    """Writes accounting import files (Xero's or QuickBooks Online's invoices), each
    statement once."""

    name: ClassVar[str] = "csv"
    settings_model: ClassVar[type | None] = CsvSinkSettings

    def __init__(self, settings: Mapping[str, Any], context: SinkContext) -> None:
        try:
            self.settings = CsvSinkSettings.model_validate(dict(settings))
        except ValidationError as exc:
            raise PluginError(f"csv sink settings for tenant {context.tenant}: {exc}") from exc
        self.context = context
        self.template = TEMPLATES[self.settings.template]
        directory = Path(self.settings.output_dir)
        self.directory = directory if directory.is_absolute() else context.output_dir / directory

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        """Export the documents not exported before into one new file; one result each.

        Safe to call again with the same documents: those already in the ledger are
        reported with the file they went to and not written again.
        """
        # Import files hold every customer's billing: the folder is its owner's only.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with directory_lock(self.directory):
            # Under the lock no write is in progress: any temporary file is a crashed one's.
            remove_temporaries(self.directory)
            ledger = ExportLedger.load(self.directory)
            if ledger.settle_pending():
                ledger.save()
            batch: dict[str, tuple[StatementDocument, list[tuple[str, ...]]]] = {}
            decided = [self._prepare(document, ledger, batch) for document in documents]
            written = self._write(batch, ledger)
        # A document given twice in one call shares the outcome of its first appearance.
        return [
            result or written[document.idempotency_key]
            for result, document in zip(decided, documents, strict=True)
        ]

    def _prepare(
        self,
        document: StatementDocument,
        ledger: ExportLedger,
        batch: dict[str, tuple[StatementDocument, list[tuple[str, ...]]]],
    ) -> PushResult | None:
        """The result for a document not to be written now, or None once it is in ``batch``."""
        key = document.idempotency_key
        if key in batch:
            return None
        result = self._refusal(document, ledger, batch)
        if result is not None:
            return result
        try:
            rows = self.template.rows(document, resolve_mapping(self.settings, document))
        except PluginError as exc:
            # The rows depend only on this revision and the settings: retrying cannot help.
            return failed(document, str(exc), permanent=True)
        batch[key] = (document, rows)
        return None

    def _refusal(
        self,
        document: StatementDocument,
        ledger: ExportLedger,
        batch: Mapping[str, tuple[StatementDocument, object]],
    ) -> PushResult | None:
        """Why ``document`` is not to be written, as its result; None when nothing stops it."""
        refusal = draft_refusal(document, "exporting")
        if refusal is not None:
            return failed(document, refusal)
        done = ledger.exported(document.idempotency_key)
        if done is not None:
            return PushResult(
                document.statement_id, done.invoice_number, True, f"already exported in {done.file}"
            )
        # Xero and QuickBooks merge rows with the same invoice number into one invoice:
        # a second revision under a number already exported would add to the first.
        clash = ledger.by_invoice_number(document.number)
        if clash is not None and clash[0] != document.idempotency_key:
            return failed(
                document,
                f"invoice number {document.number} was already exported in {clash[1].file} "
                f"for {clash[0]}; correct an Open statement with a credit note instead",
            )
        for other, _rows in batch.values():
            if other.number == document.number:
                return failed(
                    document,
                    f"invoice number {document.number} is also used by statement "
                    f"{other.statement_id} in this push",
                )
        return None

    def _file_name(self, ledger: ExportLedger) -> str:
        stem = (
            f"{safe_name(self.context.tenant)}-{self.template.name}-invoices-"
            f"{safe_name(self.context.run_id)}"
        )
        taken = ledger.files()
        name, counter = f"{stem}.csv", 1
        # A second push in the same run must not replace a file someone may have imported.
        while name in taken or (self.directory / name).exists():
            counter += 1
            name = f"{stem}-{counter}.csv"
        return name

    def _write(
        self,
        batch: Mapping[str, tuple[StatementDocument, list[tuple[str, ...]]]],
        ledger: ExportLedger,
    ) -> dict[str, PushResult]:
        """Write ``batch`` to a new file under the pending/confirm protocol of the ledger."""
        if not batch:
            return {}
        name = self._file_name(ledger)
        keys = list(batch)

        def results(ok: bool, message: str) -> dict[str, PushResult]:
            return {
                key: PushResult(document.statement_id, document.number if ok else None, ok, message)
                for key, (document, _rows) in batch.items()
            }

        for key, (document, _rows) in batch.items():
            ledger.add_pending(key, Export(name, document.number or "", document.statement_id))
        try:
            ledger.save()
            rows = [row for _document, doc_rows in batch.values() for row in doc_rows]
            atomic_write(self.directory / name, to_csv_bytes(self.template.header, rows))
        except OSError as exc:
            ledger.discard(keys)
            try:
                ledger.save()
            except OSError:
                # Left pending with no file: the next push's settle_pending forgets them.
                log.warning("could not roll back the ledger in %s", self.directory)
            return results(False, f"could not export to {name} in {self.directory}: {exc}")
        ledger.confirm(keys)
        try:
            ledger.save()
        except OSError:
            # The file is complete; the next push finds it and confirms the entries.
            log.warning("exported %s but could not confirm it in the ledger yet", name)
        return results(True, f"exported to {name}")


@hookimpl
def connector_register_sinks(registry: ClassRegistry) -> None:
    """Offer the ``csv`` sink."""
    registry.add(CsvSink)
