"""FAULTY on purpose: a sink that exports a statement again on every push."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from connector.contracts import PushResult, SinkContext, StatementDocument


class DuplicatingSink:
    """Writes each push to a new file named after the run, remembering nothing."""

    name: ClassVar[str] = "faulty-duplicates"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings: Mapping[str, Any], context: SinkContext) -> None:
        self.context = context

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        if not documents:
            return []
        # The fault: no record of what was exported, so a retry after a restart exports
        # (and the accounting system imports) every statement a second time.
        path = self.context.output_dir / f"invoices-{self.context.run_id}.txt"
        path.write_text("".join(f"{d.number}\n" for d in documents))
        return [PushResult(d.statement_id, f"{path.name}:{d.number}", True) for d in documents]
