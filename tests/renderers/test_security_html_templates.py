"""A tenant's HTML template is configuration, not code: the sandbox lets it read the
documented variables and refuses everything that could run code (issue 19, defect 1)."""

from __future__ import annotations

import pytest
from connector_render_html.plugin import HtmlRenderer

from connector.contracts import PluginError
from tests.factories import make_statement

ESCAPES = [
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ document.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].system('touch PWNED') }}",
    "{{ customer.__class__ }}",
    "{{ ''.__class__.__base__ }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_template_reaching_for_python_internals_is_refused_with_file_and_line(
    tmp_path, monkeypatch, source
):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "statement.html.j2").write_text(f"<p>ok</p>\n{source}\n")
    with pytest.raises(PluginError) as caught:
        HtmlRenderer(template_dir=folder).render(make_statement(), "html")
    message = str(caught.value)
    assert "sandbox" in message
    assert f"{folder / 'statement.html.j2'}, line 2" in message
    assert not (tmp_path / "PWNED").exists()


def test_template_cannot_change_the_data_it_is_given(tmp_path):
    (tmp_path / "statement.html.j2").write_text("{{ lines.append(1) }}{{ facts.clear() }}")
    with pytest.raises(PluginError, match="sandbox"):
        HtmlRenderer(template_dir=tmp_path).render(make_statement(), "html")


def test_documented_variables_still_render_in_the_sandbox(tmp_path):
    (tmp_path / "statement.html.j2").write_text(
        "{% for label, value in facts %}{{ label }}={{ value }};{% endfor %}"
        "{{ lines|length }} {{ customer.name }} {{ document.currency }} {{ '<b>' }}"
    )
    out = HtmlRenderer(template_dir=tmp_path).render(make_statement(), "html").decode()
    assert "Contoso Analytics &amp; Co." in out
    assert "&lt;b&gt;" in out  # autoescape stays on
    assert "Statement no.=NW-2025-0042;" in out
