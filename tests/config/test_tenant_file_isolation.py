"""Issue 18: a command for one tenant runs whatever state another tenant's file is in.

``connector ingest --tenant acme`` refused to run (exit 5, "month must be in 1..12")
because ``bee.yaml`` had an impossible date, even a quoted one that the model reports
properly. Now the other file is named in a warning; asking for its own tenant is a
configuration error (exit 1) listing its problems; check-config lists everything.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.core.conftest import DEMO_CUR, run, settings_file

BROKEN = {
    "unquoted-date": ("effective: 2026-01-01", "effective: 2026-13-01"),
    "quoted-date": ("effective: 2026-01-01", 'effective: "2026-02-30"'),
    "syntax": ("invoice_options:\n", "invoice_options: [\n"),
}


@pytest.fixture(params=sorted(BROKEN))
def config(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    path = tenants / "acme.yaml"
    text = path.read_text().replace("../../connector/demo_data/aws", str(DEMO_CUR))
    path.write_text(text)
    old, new = BROKEN[request.param]
    assert old in text
    (tenants / "bee.yaml").write_text(text.replace("tenant: acme", "tenant: bee").replace(old, new))
    return str(settings_file(tmp_path, tenants))


def _text(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.output.split())


def test_a_command_for_one_tenant_runs_and_warns_about_the_other_file(config: str) -> None:
    result = run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws")
    text = _text(result)
    assert result.exit_code == 0, text
    assert "warning: tenant file" in text and "bee.yaml skipped" in text
    listed = run("--config", config, "statements", "list", "--tenant", "acme", "--json")
    assert listed.exit_code == 0, _text(listed)


def test_a_command_for_the_broken_tenant_is_a_configuration_error_naming_its_lines(
    config: str,
) -> None:
    result = run("--config", config, "ingest", "--tenant", "bee", "--provider", "aws")
    text = _text(result)
    assert result.exit_code == 1, text
    assert "configuration problem(s)" in text and "bee.yaml:" in text
    assert "Traceback" not in text


def test_check_config_still_refuses_the_directory_and_exits_1(config: str) -> None:
    result = run("--config", config, "check-config")
    text = _text(result)
    assert result.exit_code == 1, text
    assert "bee.yaml:" in text
    assert "ok acme" not in text


def test_an_unknown_tenant_names_the_skipped_files(config: str) -> None:
    result = run("--config", config, "ingest", "--tenant", "nobody", "--provider", "aws")
    text = _text(result)
    assert result.exit_code == 5, text
    assert "no tenant 'nobody'" in text and "skipped for their problems" in text
