"""The ``html`` renderer and its registration hook (entry point ``html-renderer``)."""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from connector.contracts import ClassRegistry, PluginError, StatementDocument, hookimpl
from connector_render_html.view import template_context

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)

if TYPE_CHECKING:
    from jinja2 import BaseLoader

TEMPLATE_NAME = "statement.html.j2"
BUILTIN_TEMPLATES = Path(__file__).parent / "templates"
# The built-in templates stay reachable under this prefix, so a tenant's template can
# {% extends "builtin/statement.html.j2" %} and change only the blocks it needs.
BUILTIN_PREFIX = "builtin"


def _loader(template_dir: Path | None) -> BaseLoader:
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    builtin = FileSystemLoader(BUILTIN_TEMPLATES)
    loaders: list[BaseLoader] = []
    if template_dir is not None:
        loaders.append(FileSystemLoader(template_dir))
    loaders += [PrefixLoader({BUILTIN_PREFIX: builtin}), builtin]
    return ChoiceLoader(loaders)


def _template_line(exc: BaseException, fallback: Path) -> str:
    """``file, line N`` of the template frame an error was raised in (Jinja puts the
    template's file and line into the traceback), else ``fallback``."""
    where = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith(".j2") or filename.endswith(".html"):
            where = f"{filename}, line {lineno}"
    return where or str(fallback)


class HtmlRenderer:
    """The customer statement as one self-contained HTML page: inline CSS, no script,
    the logo embedded, a DRAFT banner until approval.

    :param settings: the tenant file's ``renderers.html`` settings; ``template_dir`` is a
        folder holding the tenant's own ``statement.html.j2``, used instead of the
        built-in one, relative to ``base_dir`` (the tenant file's folder) unless absolute.
        Without it the built-in template renders.
    :param template_dir: the same folder given directly (it wins over ``settings``).
    """

    name: ClassVar[str] = "html"
    formats: ClassVar[Mapping[str, str]] = {"html": ".html"}

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        base_dir: Path | None = None,
        *,
        template_dir: Path | str | None = None,
    ) -> None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        unknown = sorted(set(settings or {}) - {"template_dir"})
        if unknown:
            raise PluginError(
                f"renderers.html has no setting {', '.join(unknown)} (it knows: template_dir)"
            )
        if template_dir is None and (settings or {}).get("template_dir"):
            template_dir = Path(base_dir or Path.cwd()) / str(settings["template_dir"])
        if template_dir is not None:
            template_dir = Path(template_dir)
            if not template_dir.is_dir():
                raise PluginError(
                    f"html template folder {template_dir} does not exist; it should hold "
                    f"{TEMPLATE_NAME} (or leave it unset to use the built-in template)"
                )
        self.template_dir = template_dir
        # Autoescape everything: customer names and product descriptions come from
        # tenant files and third-party billing data, and must never become markup.
        # A tenant's template is configuration, not code: the sandbox refuses
        # ``__globals__``, ``__class__``, private attributes and methods that change
        # data, so a template reads the documented variables and can run nothing.
        self._env = ImmutableSandboxedEnvironment(
            loader=_loader(template_dir),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )

    def render(self, document: StatementDocument, fmt: str) -> bytes:
        """The statement as ``fmt`` (only ``html``): UTF-8, the same bytes every time."""
        from jinja2 import TemplateError, TemplateSyntaxError
        from jinja2.exceptions import SecurityError

        if fmt != "html":
            raise PluginError(f"the html renderer has no format {fmt!r} (it offers: html)")
        try:
            template = self._env.get_template(TEMPLATE_NAME)
            return template.render(template_context(document)).encode("utf-8")
        except TemplateSyntaxError as exc:
            raise PluginError(
                f"html template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}"
            ) from exc
        except SecurityError as exc:
            where = _template_line(exc, (self.template_dir or BUILTIN_TEMPLATES) / TEMPLATE_NAME)
            raise PluginError(
                f"html template {where}: refused by the template sandbox: {exc} (templates "
                "may use only the documented variables; see the renderer's README)"
            ) from None
        except TemplateError as exc:
            where = self.template_dir or BUILTIN_TEMPLATES
            raise PluginError(f"html template {where / TEMPLATE_NAME}: {exc}") from exc


@hookimpl
def connector_register_renderers(registry: ClassRegistry) -> None:
    """Offer the ``html`` format."""
    registry.add(HtmlRenderer)
