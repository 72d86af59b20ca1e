"""The kit's generated suite, plus this plugin's own behaviour."""

from connector_example_renderer.plugin import MarkdownRenderer

from connector.testing import renderer_test_class

# One line: determinism, non-empty output, Drafts and Open statements, unknown formats.
TestMarkdownRenderer = renderer_test_class(MarkdownRenderer)


def test_every_line_and_the_total_are_in_the_table(connector_samples):
    document = connector_samples["open"]
    text = MarkdownRenderer().render(document, "markdown").decode()
    for line in document.lines:
        assert f"| {line.position} | {line.description} |" in text
    assert "**Total: 300.39 USD**" in text


def test_a_draft_is_titled_draft(connector_samples):
    text = MarkdownRenderer().render(connector_samples["draft"], "markdown").decode()
    assert text.startswith("# DRAFT statement\n")
