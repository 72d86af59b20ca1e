"""Notify: email the customer's billing contact when a statement becomes Open.

The email is the "New customer invoice" template (``connector/templates/email``); a
tenant overrides any of its three parts (``.subject.j2``, ``.txt.j2``, ``.html.j2``)
in a folder beside its tenant file. Each sent email is recorded in the audit trail as
``statement.notified`` in the same breath, so a statement is announced once; a crash
between the SMTP server's acceptance and that record could resend it, and the
``Message-ID`` is derived from the statement so mail systems can drop the duplicate.
A failure is logged and retried on the next run; it never holds up the ERP push.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
import traceback
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path
from typing import Any, Protocol

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select

from connector.config.tenant import TenantConfig
from connector.contracts import StatementDocument
from connector.domain.money import quantum
from connector.pipeline.build.documents import statement_document
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.storage import models as m

log = logging.getLogger(__name__)

NOTIFIED = "statement.notified"
TEMPLATE = "new_customer_invoice"
DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
PROVIDER_LABELS = {"aws": "AWS", "azure": "Microsoft Azure", "softlayer": "IBM SoftLayer"}


class Sender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class Mailer(Protocol):
    """Opens one connection for a batch of emails."""

    def connect(self) -> AbstractContextManager[Sender]: ...


@dataclass(frozen=True, slots=True)
class SmtpMailer:
    """SMTP with STARTTLS (587), implicit TLS (465) or, for a local relay, none.

    :param credentials: (user, password) or None; read from the environment by the
        caller, never from a file the daemon writes.
    """

    host: str
    port: int = 587
    security: str = "starttls"
    credentials: tuple[str, str] | None = None
    ca_file: Path | None = None
    timeout: float = 30.0

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    @contextmanager
    def connect(self) -> Iterator[Sender]:
        if self.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                client.starttls(context=self._tls())
                client.ehlo()
            if self.credentials is not None:
                client.login(*self.credentials)
            yield _SmtpSender(client)
        finally:
            try:
                client.quit()
            except smtplib.SMTPException:
                client.close()


class _SmtpSender:
    def __init__(self, client: smtplib.SMTP) -> None:
        self._client = client

    def send(self, message: EmailMessage) -> None:
        self._client.send_message(message)


@dataclass(slots=True)
class NotifyReport:
    sent: list[str] = field(default_factory=list)  # statement numbers emailed
    skipped: list[str] = field(default_factory=list)  # no billing contact
    failed: list[str] = field(default_factory=list)  # retried next run


class EmailTemplateError(ValueError):
    """A tenant's email template cannot be rendered; the message names file and line."""


def templates(config: TenantConfig, override: str | None = None) -> Environment:
    """The tenant's email templates: its own folder first, then the defaults.

    The folder is ``override`` (relative to the tenant file), else ``email/<tenant>``
    beside the tenant file when it exists. Templates render in Jinja2's immutable
    sandbox: they read the variables of :func:`_variables` (listed in
    docs/security.md) and can reach no Python internals, so a tenant's template can
    run no code; the HTML part is autoescaped.
    """
    folders = []
    default = config.base_dir / "email" / config.tenant
    custom = config.resolve_path(override) if override else default
    if custom.is_dir():
        folders.append(FileSystemLoader(custom))
    folders.append(FileSystemLoader(DEFAULT_TEMPLATES))
    return ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(folders),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _money(document: StatementDocument) -> str:
    return f"{document.total.quantize(quantum(document.currency)):,}"


def _variables(document: StatementDocument, portal_url: str | None) -> dict[str, Any]:
    last_day = document.period.end - dt.timedelta(days=1)
    return {
        "customer": document.customer,
        "customer_id": document.customer_id,
        "reseller": document.reseller,
        "number": document.number,
        "provider": document.provider,
        "provider_label": PROVIDER_LABELS.get(document.provider, document.provider),
        "period_label": f"{document.period.start:%B %Y}",
        "period_start": document.period.start.isoformat(),
        "period_end": last_day.isoformat(),
        "issue_date": document.issue_date.isoformat(),
        "due_date": document.due_date.isoformat(),
        "total": _money(document),
        "currency": document.currency,
        "notes": document.notes,
        "portal_url": portal_url,
        "statement_id": document.statement_id,
    }


def _template_line(exc: BaseException, name: str) -> str:
    """``file, line N`` of the template an error was raised in (Jinja writes the
    template's file and line into the traceback), else the template's name."""
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.filename or exc.name or name}, line {exc.lineno}"
    where = name
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.endswith(".j2"):
            where = f"{frame.f_code.co_filename}, line {lineno}"
    return where


def _render(env: Environment, name: str, values: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(values)
    except TemplateError as exc:
        raise EmailTemplateError(
            f"email template {_template_line(exc, name)}: {type(exc).__name__}: {exc}"
        ) from None


def compose(
    env: Environment, document: StatementDocument, sender: str, portal_url: str | None = None
) -> EmailMessage:
    """The "New customer invoice" email for ``document`` (text and HTML alternatives).

    :raises EmailTemplateError: a template is broken or tried what the sandbox refuses
        (``__globals__``, ``__class__``...), naming its file and line.
    """
    values = _variables(document, portal_url)
    message = EmailMessage()
    subject = _render(env, f"{TEMPLATE}.subject.j2", values)
    message["Subject"] = " ".join(subject.split())
    message["From"] = formataddr((document.reseller.name, sender))
    message["To"] = formataddr((document.customer.name, document.customer.email or ""))
    domain = sender.rpartition("@")[2] or "billing-connector"
    message["Message-ID"] = f"<statement-{document.statement_id}-r{document.revision}@{domain}>"
    message["X-Billing-Statement"] = document.number or document.statement_id
    message.set_content(_render(env, f"{TEMPLATE}.txt.j2", values))
    message.add_alternative(_render(env, f"{TEMPLATE}.html.j2", values), subtype="html")
    return message


def _pending(runtime: Runtime, config: TenantConfig, since: dt.datetime) -> list[StatementDocument]:
    tenant = config.tenant
    notified = select(m.AuditEntry.subject).where(
        m.AuditEntry.tenant_id == tenant, m.AuditEntry.action == NOTIFIED
    )
    with runtime.db.transaction() as session:
        statements = session.scalars(
            select(m.Statement)
            .where(
                m.Statement.tenant_id == tenant,
                m.Statement.status != "Draft",
                m.Statement.approved_at >= since,
                m.Statement.id.not_in(notified),
            )
            .order_by(m.Statement.number)
        )
        return [statement_document(config, s) for s in statements]


def _record(runtime: Runtime, tenant: str, document: StatementDocument, detail: dict) -> None:
    with runtime.db.transaction() as session:
        record(session, tenant, "daemon:notify", NOTIFIED, document.statement_id, detail)


def statement_link(runtime: Runtime, document: StatementDocument) -> str | None:
    """The statement in the customer portal (connector.api.portal), when the daemon
    settings give the address customers reach the app at (``api.portal_url``)."""
    base = runtime.settings.api.portal_url
    if not base:
        return None
    return f"{base.rstrip('/')}/portal/statements/{document.statement_id}"


def notify_open_statements(
    runtime: Runtime,
    tenant: str,
    mailer: Mailer,
    *,
    since: dt.datetime,
    sender: str | None = None,
    template_dir: str | None = None,
    portal_url: str | None = None,
) -> NotifyReport:
    """Email every statement approved since ``since`` that has not been announced yet.

    ``since`` keeps a first start on an old database from mailing every customer
    about statements they received long ago. A connection or login failure stops the
    run (the rest are retried next time); a refused recipient is logged and retried.
    """
    config = runtime.tenant(tenant)
    report = NotifyReport()
    documents = _pending(runtime, config, since)
    if not documents:
        return report
    from_address = sender or config.profile.email
    if not from_address:
        raise ValueError(
            f"tenant {tenant!r} has no sender address for emails: set smtp.from_address in "
            "the daemon settings or profile.email in the tenant file"
        )
    env = templates(config, template_dir)
    with mailer.connect() as smtp:
        for document in documents:
            label = document.number or document.statement_id
            if not document.customer.email:
                report.skipped.append(label)
                _record(runtime, tenant, document, {"skipped": "customer has no email"})
                log.warning("customer %s has no email: %s not announced",
                            document.customer_id, label)  # fmt: skip
                continue
            try:
                link = statement_link(runtime, document) or portal_url
                smtp.send(compose(env, document, from_address, link))
            except smtplib.SMTPRecipientsRefused as exc:
                report.failed.append(label)
                log.warning("email for %s refused: %s", label, exc)
                continue
            report.sent.append(label)
            _record(runtime, tenant, document, {"number": document.number,
                                                "to": document.customer.email})  # fmt: skip
    return report
