"""The example tenant, its AWS data the bundled CUR file, for driving the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from connector.cli.main import main
from tests.conftest import REPO

DEMO_CUR = REPO / "connector/demo_data/aws"


def run(*args: str) -> Result:
    """``connector ARGS`` in-process; exceptions the CLI does not handle propagate."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def build_october(config: str) -> list[dict]:
    """Ingest the demo CUR and generate October's Drafts; their JSON summaries."""
    ingested = run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws")
    assert ingested.exit_code == 0, ingested.output
    generated = run("--config", config, "statements", "generate", "--tenant", "acme",
                    "--provider", "aws", "--period", "2026-10", "--json")  # fmt: skip
    assert generated.exit_code == 0, generated.output
    return json.loads(generated.output)["generated"]


def settings_file(
    tmp_path: Path, tenants: Path, database_url: str | None = None, upgrade: bool = True
) -> Path:
    """A connector.yaml for ``tenants`` on a new SQLite database (unless given a URL),
    made ready with ``connector db upgrade`` (unless ``upgrade`` is False): the other
    commands do not migrate it."""
    path = tmp_path / "connector.yaml"
    url = database_url or f"sqlite:///{tmp_path / 'c.db'}"
    path.write_text(f"database_url: {url}\ntenants_dir: {tenants}\noutput_dir: {tmp_path}/out\n")
    if upgrade:
        upgraded = run("--config", str(path), "db", "upgrade")
        assert upgraded.exit_code == 0, upgraded.output
    return path


@pytest.fixture
def example_tenants(tmp_path: Path) -> Path:
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    text = (tenants / "acme.yaml").read_text()
    (tenants / "acme.yaml").write_text(text.replace("../../connector/demo_data/aws", str(DEMO_CUR)))
    return tenants


@pytest.fixture
def example_config(tmp_path: Path, example_tenants: Path) -> str:
    """The path of a settings file for the example tenant."""
    return str(settings_file(tmp_path, example_tenants))
