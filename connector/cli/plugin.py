"""``connector plugin new``: a plugin distribution scaffolded from the template shipped in
the package (``connector/plugin_template``), which passes the conformance kit as made.

A template folder rendered with Jinja2 rather than copier or cookiecutter: the connector
depends on Jinja2 already, the template is rendered once with no questions asked (the
name and the kind are all it needs), and neither tool's strength, updating a project
from a newer template, applies to a plugin its author rewrites from the first day.

Template files end in ``.j2``; ``common/`` goes into every plugin and ``<kind>/`` beside
it, and a top folder named ``package`` becomes the plugin's Python package.
"""

from __future__ import annotations

import re
from importlib.metadata import entry_points, version
from pathlib import Path

import click
from jinja2 import Environment, StrictUndefined

from connector.cli.main import DISTRIBUTION
from connector.cli.output import console
from connector.contracts import ENTRY_POINT_GROUP, PLUGIN_API_VERSION

TEMPLATE = Path(__file__).resolve().parents[1] / "plugin_template"
KINDS = {"provider": "Provider", "sink": "Sink", "renderer": "Renderer"}
NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
NAME_LENGTH = 40


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new plugin, or ``None``."""
    if not NAME.fullmatch(name) or len(name) > NAME_LENGTH:
        return (
            f"{name!r} cannot name a plugin: use lower-case letters, digits and single "
            f"hyphens, starting with a letter, at most {NAME_LENGTH} characters (e.g. acme-cloud)"
        )
    taken = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name in taken:
        dist = taken[name].dist
        owner = dist.metadata["Name"] if dist is not None else "an installed distribution"
        return f"a plugin named {name!r} is installed already (from {owner}): choose another"
    return None


def template_values(name: str, kind: str) -> dict[str, str]:
    """What the template is rendered with."""
    words = name.split("-")
    return {
        "name": name,
        "kind": kind,
        "distribution": f"billing-connector-{name}",
        "package": "_".join(["billing_connector", *words]),
        "class_name": "".join(word.capitalize() for word in words) + KINDS[kind],
        "api": PLUGIN_API_VERSION,
        "core_version": version(DISTRIBUTION),
    }


def rendered_files(values: dict[str, str]) -> dict[Path, str]:
    """Every file of the new distribution, by path inside its folder."""
    env = Environment(keep_trailing_newline=True, undefined=StrictUndefined, autoescape=False)
    files = {}
    for top in (TEMPLATE / "common", TEMPLATE / values["kind"]):
        for source in sorted(top.rglob("*.j2")):
            parts = source.relative_to(top).with_suffix("").parts
            if parts[0] == "package":
                parts = (values["package"], *parts[1:])
            template = env.from_string(source.read_text(encoding="utf-8"))
            files[Path(*parts)] = template.render(values)
    return files


def scaffold(name: str, kind: str, parent: Path) -> Path:
    """Write the new plugin distribution below ``parent``; return its folder.

    :raises click.UsageError: a bad or taken name, or a folder that exists already
        (nothing is written then).
    """
    problem = name_problem(name)
    if problem is not None:
        raise click.UsageError(problem)
    values = template_values(name, kind)
    files = rendered_files(values)
    folder = parent / values["distribution"]
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        raise click.UsageError(
            f"{folder} exists already; nothing was written (choose another NAME or --dir)"
        ) from None
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    return folder


@click.group()
def plugin() -> None:
    """Scaffold a new plugin distribution."""


@plugin.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(sorted(KINDS)), required=True, help="What it adds.")
@click.option(
    "--dir",
    "parent",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Folder to create the distribution's folder in.",
)
def new(name: str, kind: str, parent: Path) -> None:
    """Scaffold the plugin distribution billing-connector-NAME: pyproject.toml with its
    entry point, a working minimal KIND plugin, a README and the conformance kit's tests.

    NAME is what tenant files and `connector plugins` call it (e.g. acme-cloud).
    """
    folder = scaffold(name, kind, parent)
    console.print(f"created {folder} ({kind} {name!r}, plugin API {PLUGIN_API_VERSION})")
    console.print(
        f"next: pip install -e '{folder}[test]', then python -m pytest in it; "
        "`connector plugins` lists it",
        markup=False,
    )
