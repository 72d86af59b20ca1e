"""Export: statements rendered into files, every format a renderer plugin offers.

A statement a renderer cannot render stops neither its other formats nor the other
statements; files are written whole or not at all, ``0600``, and named so that no part
taken from data can leave the folder.

A month's statements are read and written a chunk at a time: each chunk's statements in
one query with their lines (not a round trip each), its files as one
:class:`PrivateBatch` (their fsyncs waiting together, not one after another), so only
one chunk is held in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from connector.config.tenant import TenantConfig
from connector.contracts import PluginError, Renderer, StatementDocument
from connector.pipeline.build.documents import CHUNK, load_statements, statement_document
from connector.pipeline.publish.erp import tenant_renderer
from connector.progress import NO_PROGRESS, Progress, counted
from connector.runtime.runtime import Runtime
from connector.safe_paths import PrivateBatch, path_under, safe_name, write_private
from connector.storage import models as m


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all, readable by its owner only (``0600``, missing
    folders ``0700``): statements and reports are confidential."""
    write_private(path, data)


def statement_basename(statement: m.Statement) -> str:
    """The statement's file name without suffix; every part taken from data is encoded
    (:func:`safe_name`), so none can add a folder or climb out of one.

    A Draft has no number yet and is named by its whole id: the first characters of
    ids made in one build are alike, so a cut id would give two Drafts one file.
    """
    label = statement.number or f"draft-{statement.id}"
    parts = (statement.provider, f"{statement.period_start:%Y-%m}", statement.customer_id, label)
    return "-".join(safe_name(part) for part in parts)


@dataclass(slots=True)
class Exported:
    """What an export wrote, and what it could not, by statement id and format."""

    written: list[Path] = field(default_factory=list)
    # Drafts a format renders only once they are approved (it needs the invoice number).
    needs_approval: list[tuple[str, str]] = field(default_factory=list)
    # (statement id, format, why): the renderer failed for another reason.
    failed: list[tuple[str, str, str]] = field(default_factory=list)


def export_statements(
    runtime: Runtime,
    tenant: str,
    statement_ids: Sequence[str],
    formats: Sequence[str],
    out_dir: Path,
    progress: Progress = NO_PROGRESS,
    *,
    chunk: int = CHUNK,
) -> Exported:
    """Render each statement in each format into ``out_dir``, every file that can be.

    A statement a renderer cannot render stops neither its other formats nor the other
    statements: it is reported in :class:`Exported`, as needing approval when it is a
    Draft the renderer renders once numbered and Open (UBL has no draft invoice), else
    as failed with the renderer's message. So is a statement whose document cannot be
    made (its customer gone from the tenant file, say) or that is not the tenant's. A
    format no renderer offers is an error before anything is written. File names are
    encoded and checked to stay directly in ``out_dir``; the files are ``0600`` and a
    folder this creates ``0700``.

    Statements are read ``chunk`` at a time, each chunk in its own transaction; a
    chunk's files are all durable before the next chunk is read (:class:`PrivateBatch`).
    """
    config = runtime.tenant(tenant)
    renderers = runtime.plugins.renderers
    chosen = [(fmt, tenant_renderer(config, renderers.get(fmt))) for fmt in formats]  # fail first
    done = Exported()
    progress.stage("rendering statements", total=len(statement_ids), unit="statements")
    for start in range(0, len(statement_ids), chunk):
        ids = statement_ids[start : start + chunk]
        documents = _read_chunk(runtime, config, tenant, ids)
        with PrivateBatch() as batch:
            for statement_id in counted(ids, progress):
                found = documents[statement_id]
                if isinstance(found, str):
                    done.failed += [(statement_id, fmt, found) for fmt, _ in chosen]
                    continue
                document, basename = found
                for fmt, renderer in chosen:
                    try:
                        data = renderer.render(document, fmt)
                    except Exception as exc:  # noqa: BLE001 (a plugin's, reported with its name)
                        if _renders_once_approved(renderer, document, fmt):
                            done.needs_approval.append((statement_id, fmt))
                        else:
                            done.failed.append((statement_id, fmt, _why(exc)))
                        continue
                    # path_under refuses what would land elsewhere.
                    batch.write(path_under(out_dir, f"{basename}{renderers.suffix(fmt)}"), data)
        done.written += batch.written
    return done


def _read_chunk(
    runtime: Runtime, config: TenantConfig, tenant: str, statement_ids: Sequence[str]
) -> dict[str, tuple[StatementDocument, str] | str]:
    """Each statement's document and file base name, or why it has none: one
    statement's fault stops no other."""
    read: dict[str, tuple[StatementDocument, str] | str] = {}
    with runtime.db.transaction() as session:
        statements = load_statements(session, statement_ids)
        for statement_id in statement_ids:
            statement = statements.get(statement_id)
            if statement is None or statement.tenant_id != tenant:
                read[statement_id] = f"tenant {tenant!r} has no statement {statement_id}"
                continue
            try:
                document = statement_document(config, statement)
            except Exception as exc:  # noqa: BLE001 (this statement's fault alone)
                read[statement_id] = _why(exc)
                continue
            read[statement_id] = (document, statement_basename(statement))
    return read


def export(runtime: Runtime, tenant: str, *args: Any, **kwargs: Any) -> list[Path]:
    """:func:`export_statements` (the same arguments) for callers that need every file:
    returns the paths written, or raises PluginError naming each statement and format
    not rendered (after writing the rest)."""
    done = export_statements(runtime, tenant, *args, **kwargs)
    problems = [f"statement {i} as {fmt}: a Draft; approve it first"
                for i, fmt in done.needs_approval]  # fmt: skip
    problems += [f"statement {i} as {fmt}: {why}" for i, fmt, why in done.failed]
    if problems:
        raise PluginError("\n".join(problems))
    return done.written


def _why(exc: Exception) -> str:
    # A PluginError's message is written for the operator; anything else is a bug
    # whose type says more than its message.
    return str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"


def _renders_once_approved(renderer: Renderer, document: StatementDocument, fmt: str) -> bool:
    """Whether ``renderer``, which refused the Draft ``document``, renders it once it is
    numbered and Open: then the refusal was for being a Draft. A renderer has no way to
    say so itself, so the document is tried as approval will make it (and discarded)."""
    if document.number is not None and document.status != "Draft":
        return False
    approved = replace(document, number=document.number or "APPROVAL-PENDING", status="Open")
    try:
        renderer.render(approved, fmt)
    except Exception:  # noqa: BLE001 (it fails for another reason too)
        return False
    return True
