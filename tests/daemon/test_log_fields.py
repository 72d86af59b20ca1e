"""Log lines with fields of their own (access lines, audit entries), masked like the rest;
and the one setup every process uses, read from the settings for ``-v`` commands."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from connector.daemon.logs import configure_logging


@pytest.fixture
def root_logger():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield root
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_fields_become_keys_of_the_json_line_masked_and_never_replacing_the_fixed_ones(
    root_logger,
) -> None:
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream, secrets=["hunter2-known"])
    fields = {
        "actor": "api-key:0123456789ab",  # a key named by its id: kept readable
        "path": "/v1/x/hunter2-known",
        "note": "password=swordfish",
        "status": 200,
        "level": "FORGED",
    }
    logging.getLogger("t").info("by api-key:0123456789ab; api-key: s3cret-value", extra={
        "fields": fields, "tenant": "acme",
    })  # fmt: skip
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["actor"] == "api-key:0123456789ab" and line["status"] == 200
    assert line["path"] == "/v1/x/***" and line["note"] == "password=***"
    assert line["level"] == "INFO" and line["tenant"] == "acme"
    assert line["message"] == "by api-key:0123456789ab; api-key: ***"
    for secret in ("hunter2-known", "swordfish", "s3cret-value"):
        assert secret not in stream.getvalue()


@pytest.mark.parametrize(
    ("settings", "json_lines"),
    [("log_format: json\n", True), ("log_format: text\n", False), ("log_format: [\n", False)],
    ids=["json", "text", "unreadable settings: text"],
)
def test_verbose_commands_log_in_the_settings_format(
    tmp_path: Path, root_logger, capsys, settings: str, json_lines: bool
) -> None:
    from connector.daemon.logs import configure_verbose_logging

    path = tmp_path / "connector.yaml"
    path.write_text(f"database_url: sqlite:///{tmp_path / 'c.db'}\n{settings}")
    configure_verbose_logging(path)
    logging.getLogger("connector.test").info("one line")
    logging.getLogger("connector.test").debug("not at INFO")
    (text,) = capsys.readouterr().err.splitlines()
    if json_lines:
        assert json.loads(text)["message"] == "one line"
    else:
        assert text.endswith("INFO connector.test: one line")
