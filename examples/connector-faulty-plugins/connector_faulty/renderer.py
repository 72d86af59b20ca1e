"""FAULTY on purpose: a renderer whose output changes on every call."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import ClassVar

from connector.contracts import StatementDocument


class FaultyRenderer:
    """Stamps a random render id into the text, and renders any format it is asked for."""

    name: ClassVar[str] = "faulty-txt"
    formats: ClassVar[Mapping[str, str]] = {"txt": ".txt"}

    def render(self, document: StatementDocument, fmt: str) -> bytes:
        # The fault: a random id (a clock time would do the same) makes every file differ.
        # The second fault: no PluginError for a format it does not offer.
        return (
            f"Statement {document.number or 'DRAFT'} total {document.total} {document.currency}\n"
            f"render id {uuid.uuid4()}\n"
        ).encode()
