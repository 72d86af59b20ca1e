"""`connector close`: the operator's signal that a period is final."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from connector.cli.support import EXIT_BILLING, handle_errors
from tests.core.conftest import DEMO_CUR, run, settings_file

INVOICE_ID = "EUINUS26-000123"


def open_period_tenant(tmp_path: Path, example_tenants: Path) -> str:
    """acme's CUR moved to October 2099 with no invoice ids: AWS has not closed it, and
    its business days are decades away, so only the operator's signal can close it."""
    cur = (DEMO_CUR / "cur-2026-10-00001.csv").read_text()
    assert INVOICE_ID in cur
    folder = tmp_path / "cur-2099"
    folder.mkdir()
    future = cur.replace(INVOICE_ID, "").replace("2026-10-", "2099-10-")
    (folder / "cur.csv").write_text(future.replace("2026-11-01", "2099-11-01"))
    path = example_tenants / "acme.yaml"
    path.write_text(path.read_text().replace(str(DEMO_CUR), str(folder)))
    return str(settings_file(tmp_path, example_tenants))


def generate(config: str):
    return run("--config", config, "statements", "generate", "--tenant", "acme",
               "--provider", "aws", "--period", "2099-10", "--json")  # fmt: skip


def close(config: str, provider: str = "aws", period: str = "2099-10"):
    return run("--config", config, "close", "--tenant", "acme", "--provider", provider,
               "--period", period)  # fmt: skip


def test_close_lets_an_open_period_be_built(tmp_path: Path, example_tenants: Path) -> None:
    config = open_period_tenant(tmp_path, example_tenants)
    assert run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws").exit_code == 0
    refused = generate(config)
    assert refused.exit_code == 5
    assert "connector close --tenant acme --provider aws --period 2099-10" in " ".join(
        refused.output.split()
    )

    closed = close(config)
    assert closed.exit_code == 0, closed.output
    assert "aws 2099-10 is closed for acme (manual)" in closed.output
    again = close(config)
    assert again.exit_code == 0 and "(manual)" in again.output
    with sqlite3.connect(tmp_path / "c.db") as db:
        rows = db.execute("SELECT provider, period_start, reason FROM period_closes").fetchall()
    assert rows == [("aws", "2099-10-01", "manual")]

    built = generate(config)
    assert built.exit_code == 0, built.output
    assert len(json.loads(built.output)["generated"]) == 3


def test_close_of_an_unknown_provider_exits_5_and_names_it(
    tmp_path: Path, example_tenants: Path
) -> None:
    config = str(settings_file(tmp_path, example_tenants))
    result = close(config, provider="gcp")
    assert result.exit_code == 5
    assert "tenant 'acme' has no provider 'gcp' (providers: aws)" in result.output


def test_close_of_a_malformed_period_says_what_is_valid(
    tmp_path: Path, example_tenants: Path
) -> None:
    config = str(settings_file(tmp_path, example_tenants))
    result = close(config, period="2026-13")
    assert result.exit_code != 0
    assert "2026-13" in result.output and "YYYY-MM" in result.output


@pytest.mark.parametrize(
    "error", [KeyError("tenant 'acme' has no tax rate named 'VAT'"), LookupError("'VAT' unknown")]
)
def test_a_lookup_error_message_is_printed_whole(error, capsys) -> None:
    """KeyError's own quotes go, the message's quotes stay (they were once stripped with
    them: "no tax rate named 'VAT")."""

    @handle_errors
    def command() -> None:
        raise error

    with pytest.raises(SystemExit) as exited:
        command()
    assert exited.value.code == EXIT_BILLING
    assert capsys.readouterr().err.endswith(f" {error.args[0]}\n")
