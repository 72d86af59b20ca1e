"""Export: statements rendered into files, every format a renderer plugin offers.

A statement a renderer cannot render stops neither its other formats nor the other
statements; files are written whole or not at all, ``0600``, and named so that no part
taken from data can leave the folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from connector.contracts import PluginError, Renderer, StatementDocument
from connector.pipeline.build.documents import statement_document
from connector.pipeline.publish.erp import tenant_renderer
from connector.progress import NO_PROGRESS, Progress, counted
from connector.runtime.runtime import Runtime
from connector.safe_paths import path_under, safe_name, write_private
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
) -> Exported:
    """Render each statement in each format into ``out_dir``, every file that can be.

    A statement a renderer cannot render stops neither its other formats nor the other
    statements: it is reported in :class:`Exported`, as needing approval when it is a
    Draft the renderer renders once numbered and Open (UBL has no draft invoice), else
    as failed with the renderer's message. A format no renderer offers is an error
    before anything is written. File names are encoded and checked to stay directly in
    ``out_dir``; the files are ``0600`` and a folder this creates ``0700``.
    """
    config = runtime.tenant(tenant)
    renderers = runtime.plugins.renderers
    chosen = [(fmt, tenant_renderer(config, renderers.get(fmt))) for fmt in formats]  # fail first
    done = Exported()
    progress.stage("rendering statements", total=len(statement_ids), unit="statements")
    with runtime.db.transaction() as session:
        for statement_id in counted(statement_ids, progress):
            statement = session.get(m.Statement, statement_id)
            try:
                document = statement_document(config, statement)
            except Exception as exc:  # noqa: BLE001 (this statement's fault alone)
                done.failed += [(statement_id, fmt, _why(exc)) for fmt, _ in chosen]
                continue
            for fmt, renderer in chosen:
                try:
                    data = renderer.render(document, fmt)
                except Exception as exc:  # noqa: BLE001 (a plugin's, reported with its name)
                    if _renders_once_approved(renderer, document, fmt):
                        done.needs_approval.append((statement_id, fmt))
                    else:
                        done.failed.append((statement_id, fmt, _why(exc)))
                    continue
                name = f"{statement_basename(statement)}{renderers.suffix(fmt)}"
                path = path_under(out_dir, name)  # refuses what would land elsewhere
                write_atomically(path, data)
                done.written.append(path)
    return done


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
