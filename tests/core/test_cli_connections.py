"""A `connector` command gives back the database connections it opened.

In one process (the CliRunner here, an embedding script, the API's own calls) each
command's pool would otherwise hold its connections until garbage-collected; on
PostgreSQL those are server connections, and the suite once ran out of them.
"""

from __future__ import annotations

from pathlib import Path

import connector.runtime.runtime
from tests.core.conftest import run, settings_file


def test_a_command_closes_its_connection_pool(tmp_path: Path, example_tenants: Path, monkeypatch):
    opened = []
    real_open = connector.runtime.runtime.open_runtime

    def recording_open(settings, **options):  # type: ignore[no-untyped-def]
        opened.append(real_open(settings, **options))
        return opened[-1]

    monkeypatch.setattr(connector.runtime.runtime, "open_runtime", recording_open)
    config = str(settings_file(tmp_path, example_tenants))
    result = run("--config", config, "statements", "list", "--tenant", "acme", "--json")
    assert result.exit_code == 0, result.output
    [runtime] = opened
    assert runtime.db.engine.pool.checkedin() == 0
    failed = run("--config", config, "statements", "show", "--tenant", "acme", "nope")
    assert failed.exit_code != 0
    assert opened[-1].db.engine.pool.checkedin() == 0  # also when the command fails
