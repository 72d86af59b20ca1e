"""A tenant's email templates render in the sandbox (issue 19, defect 1): they read the
documented variables and can run no code; a refused template names its file and line."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from connector.pipeline.publish.notify import (
    DEFAULT_TEMPLATES,
    TEMPLATE,
    EmailTemplateError,
    compose,
    templates,
)
from tests.factories import make_statement


def tenant_with_templates(tmp_path, **parts: str) -> SimpleNamespace:
    folder = tmp_path / "email" / "acme"
    folder.mkdir(parents=True)
    for suffix, text in parts.items():
        (folder / f"{TEMPLATE}.{suffix}.j2").write_text(text)
    return SimpleNamespace(base_dir=tmp_path, tenant="acme", resolve_path=lambda p: tmp_path / p)


def test_builtin_email_renders_as_before_in_the_sandbox(tmp_path):
    config = SimpleNamespace(base_dir=tmp_path, tenant="acme", resolve_path=lambda p: p)
    plain = Environment(
        loader=FileSystemLoader(DEFAULT_TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    document = make_statement()
    sandboxed = compose(templates(config), document, "billing@example.com")
    expected = compose(plain, document, "billing@example.com")
    assert sandboxed["Subject"] == expected["Subject"]
    for kind in ("plain", "html"):
        assert sandboxed.get_body((kind,)).get_content() == (
            expected.get_body((kind,)).get_content()
        )


@pytest.mark.parametrize(
    "source",
    [
        "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
        "{{ customer.__class__.__mro__ }}",
        "{{ joiner.__init__.__globals__ }}",
    ],
)
def test_email_template_reaching_for_internals_is_refused(tmp_path, monkeypatch, source):
    monkeypatch.chdir(tmp_path)
    config = tenant_with_templates(tmp_path, subject=f"Invoice\n{source}")
    with pytest.raises(EmailTemplateError) as caught:
        compose(templates(config), make_statement(), "billing@example.com")
    message = str(caught.value)
    assert "SecurityError" in message
    assert f"{tmp_path / 'email' / 'acme' / f'{TEMPLATE}.subject.j2'}, line 2" in message
    assert not (tmp_path / "PWNED").exists()


def test_email_html_part_stays_autoescaped(tmp_path):
    config = tenant_with_templates(tmp_path, html="<p>{{ customer.name }}</p>")
    message = compose(templates(config), make_statement(), "billing@example.com")
    html = message.get_body(("html",)).get_content()
    assert "Contoso Analytics &amp; Co." in html
