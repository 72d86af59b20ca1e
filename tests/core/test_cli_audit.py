"""``connector audit``: the trail, newest first, each filter narrowing it; ``-v``
commands logging JSON (their audit lines naming the shell user) as the settings say."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from connector.cli.support import cli_actor
from connector.config.settings import load_settings
from connector.storage import models as m
from connector.storage.db import Database
from tests.core.conftest import build_october, run, settings_file


@pytest.fixture
def month(tmp_path: Path, example_tenants: Path) -> tuple[str, dict[str, str]]:
    """October built; 1001 approved (ACME-01001) and 1003 deleted from the command line;
    a status change by the daemon on 1 October (before the others). Returns the
    settings file and the customers' statement ids."""
    config = upgraded(tmp_path, example_tenants)
    ids = {s["customer"]: s["id"] for s in build_october(config)}
    assert run("--config", config, "statements", "approve", "--tenant", "acme",
               ids["1001"]).exit_code == 0  # fmt: skip
    assert run("--config", config, "statements", "delete", "--tenant", "acme",
               ids["1003"]).exit_code == 0  # fmt: skip
    db = Database(load_settings(config).database_url)
    with db.transaction() as session:
        session.add(m.AuditEntry(
            tenant_id="acme", actor="daemon:sync", action="statement.status",
            subject=ids["1001"], detail={}, at=dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC),
        ))  # fmt: skip
    db.dispose()
    return config, ids


def upgraded(tmp_path: Path, tenants: Path) -> str:
    """A settings file whose database has the schema (read-only commands need it made)."""
    config = str(settings_file(tmp_path, tenants))
    assert run("--config", config, "db", "upgrade").exit_code == 0
    return config


def audit(config: str, *args: str) -> list[tuple[str, str, str]]:
    """(action, actor, subject) of each entry ``connector audit --json`` prints."""
    result = run("--config", config, "audit", "--tenant", "acme", "--json", *args)
    assert result.exit_code == 0, result.output
    return [(e["action"], e["actor"], e["subject"]) for e in json.loads(result.stdout)]


def test_audit_lists_the_trail_newest_first_and_each_filter_narrows_it(month) -> None:
    config, ids = month
    me = cli_actor()
    everything = audit(config)
    assert everything[:2] == [
        ("statement.delete", me, ids["1003"]),
        ("statement.approve", me, ids["1001"]),
    ]
    assert everything[-1] == ("statement.status", "daemon:sync", ids["1001"])
    assert {a for a, _, _ in everything} >= {"statement.generate"}

    assert [a for a, _, _ in audit(config, "--action", "statement.approve")] == [
        "statement.approve"
    ]
    assert {a for a, _, _ in audit(config, "--action", "statement.")} == {
        "statement.delete", "statement.approve", "statement.generate", "statement.status",
    }  # fmt: skip
    assert audit(config, "--actor", f"{me}")[:2] == everything[:2]
    assert {actor for _, actor, _ in audit(config, "--actor", "cli:")} == {me}
    assert audit(config, "--actor", "daemon") == [everything[-1]]
    assert everything[-1] not in audit(config, "--since", "2026-11-01")
    assert audit(config, "--until", "2026-10-31") == [everything[-1]]
    assert audit(config, "--until", "2026-10-01T12:00:00Z") == []  # a timestamp: before it
    by_number = audit(config, "--statement", "ACME-01001")
    assert [a for a, _, _ in by_number] == [
        "statement.approve", "statement.generate", "statement.status",
    ]  # fmt: skip
    assert {s for _, _, s in by_number} == {ids["1001"]}
    assert audit(config, "--statement", ids["1003"])[0] == everything[0]
    assert audit(config, "--limit", "2") == everything[:2]


def test_audit_prints_a_table_saying_when_more_match(month) -> None:
    config, ids = month
    shown = run("--config", config, "audit", "--tenant", "acme", "--limit", "1")
    assert shown.exit_code == 0, shown.output
    assert "statement.delete" in shown.stdout and cli_actor() in shown.stdout
    assert ids["1003"] in shown.stdout and "statement.approve" not in shown.stdout
    assert "1 of 6 entries shown" in shown.stdout


def test_an_unknown_tenant_or_an_unreadable_date_is_refused(
    tmp_path: Path, example_tenants: Path
) -> None:
    config = upgraded(tmp_path, example_tenants)
    unknown = run("--config", config, "audit", "--tenant", "nope")
    assert unknown.exit_code == 5 and "no tenant 'nope'" in unknown.output
    bad = run("--config", config, "audit", "--tenant", "acme", "--since", "2026-13-01")
    assert bad.exit_code == 2
    assert "--since" in bad.output and "'2026-13-01' is not a date" in bad.output


def test_verbose_commands_log_json_as_the_settings_say_naming_the_shell_user(
    tmp_path: Path, example_tenants: Path
) -> None:
    path = Path(upgraded(tmp_path, example_tenants))
    path.write_text(path.read_text() + "log_format: json\n")
    ids = {s["customer"]: s["id"] for s in build_october(str(path))}
    approved = run("--config", str(path), "-v", "statements", "approve", "--tenant", "acme",
                   ids["1002"])  # fmt: skip
    assert approved.exit_code == 0, approved.output
    lines = [json.loads(line) for line in approved.stderr.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len(approved.stderr.splitlines())  # every line is JSON
    (entry,) = [e for e in lines if e["logger"] == "connector.audit"]
    assert (entry["action"], entry["actor"], entry["subject"]) == (
        "statement.approve", cli_actor(), ids["1002"],
    )  # fmt: skip
    assert entry["tenant"] == "acme" and entry["number"] == "ACME-01001"
