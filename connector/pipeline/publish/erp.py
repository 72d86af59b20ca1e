"""The tenant's ERP sink: made with its settings, connected once, checked before use."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from connector.access.tokens import DatabaseTokenStore, fernet
from connector.config.references import resolve_references
from connector.config.tenant import TenantConfig
from connector.contracts import (
    CheckedSink,
    PluginError,
    Renderer,
    Sink,
    SinkContext,
    StatementDocument,
)
from connector.pipeline.build.documents import load_documents
from connector.runtime.runtime import Runtime
from connector.storage import models as m


def tenant_renderer(config: TenantConfig, cls: type) -> Renderer:
    """A renderer, given the tenant's ``renderers.<name>`` settings when it has any."""
    settings = config.renderers.get(cls.name)
    return cls() if settings is None else cls(settings, config.base_dir)


def renderer_for(
    runtime: Runtime, config: TenantConfig
) -> Callable[[StatementDocument, str], bytes]:
    """``render(document, fmt)`` with the installed renderers, for sinks' attachments."""

    def render(document: StatementDocument, fmt: str) -> bytes:
        return tenant_renderer(config, runtime.plugins.renderers.get(fmt)).render(document, fmt)

    return render


def token_store(runtime: Runtime, tenant: str) -> DatabaseTokenStore | None:
    """The tenant's ERP token store; None until the daemon has a token key."""
    key = runtime.settings.token_key
    return None if not key else DatabaseTokenStore(runtime.db, tenant, fernet(key))


def make_sink(runtime: Runtime, tenant: str) -> Sink:
    """The tenant's sink with its settings (secrets resolved), token store and renderers."""
    config = runtime.tenant(tenant)
    sink_cls = runtime.plugins.sinks.get(config.erp.sink)
    context = SinkContext(
        tenant=tenant,
        output_dir=runtime.output_dir / tenant,
        run_id=runtime.run_id,
        tokens=token_store(runtime, tenant),
        render=renderer_for(runtime, config),
    )
    return sink_cls(resolve_references(config.erp.settings, config.base_dir), context)


def _connectable(runtime: Runtime, tenant: str) -> tuple[type, dict]:
    config = runtime.tenant(tenant)
    sink_cls = runtime.plugins.sinks.get(config.erp.sink)
    if not hasattr(sink_cls, "authorization_url"):
        raise PluginError(f"sink {config.erp.sink!r} of tenant {tenant!r} needs no connection")
    return sink_cls, resolve_references(config.erp.settings, config.base_dir)


def connect_url(runtime: Runtime, tenant: str, state: str) -> str:
    """Where the operator signs in to let the connector into the ERP organisation."""
    sink_cls, settings = _connectable(runtime, tenant)
    fernet(runtime.settings.token_key)  # no key, no connection: say so before signing in
    return sink_cls.authorization_url(settings, state)


def connect(runtime: Runtime, tenant: str, redirect_url: str, state: str) -> str:
    """Trade the redirect URL for a token and store it (encrypted); returns its key."""
    sink_cls, settings = _connectable(runtime, tenant)
    fernet(runtime.settings.token_key)  # no key, no connection: say so before the exchange
    token = sink_cls.exchange_code(settings, redirect_url, state)
    key = sink_cls.token_key(settings)
    store = token_store(runtime, tenant)
    assert store is not None  # the key was checked above
    with store.lock(key):
        store.save(key, token)
    return key


def pending_documents(runtime: Runtime, tenant: str) -> list[StatementDocument]:
    """The approved statements not delivered yet: what the next pushes will send."""
    config = runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        ids = session.scalars(
            select(m.OutboxEntry.statement_id).where(
                m.OutboxEntry.tenant_id == tenant, m.OutboxEntry.state != "delivered"
            )
        ).all()
        return load_documents(session, config, ids)


def preflight(
    runtime: Runtime, tenant: str, documents: Sequence[StatementDocument] | None = None
) -> list[str]:
    """Every mapping the ERP lacks for ``documents`` (default: all not yet delivered)."""
    sink = make_sink(runtime, tenant)
    if not isinstance(sink, CheckedSink):
        return []
    found = pending_documents(runtime, tenant) if documents is None else documents
    return sink.preflight(found) if found else []
