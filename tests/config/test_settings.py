"""Daemon settings: file, environment overrides, relative paths, errors with lines."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connector.config import ConfigError, load_settings
from connector.config.settings import resolve_sqlite_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Settings must not pick up the developer's own CONNECTOR_* variables."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("CONNECTOR_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "etc"
    folder.mkdir(exist_ok=True)
    path = folder / "connector.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_example_settings_load():
    settings = load_settings(REPO / "config" / "connector.yaml")
    assert settings.tenants_dir == REPO / "config" / "tenants"
    assert settings.database_url == f"sqlite:///{REPO / 'connector.db'}"
    assert settings.schedule.refresh_minutes == 60
    assert settings.api.port == 8080


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/connector.yaml here
    settings = load_settings()
    assert settings.config_file is None
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'connector.db'}"
    assert settings.output_dir == tmp_path.resolve() / "out"
    assert settings.api.host == "127.0.0.1"


def test_default_file_is_config_connector_yaml_in_the_cwd(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "connector.yaml").write_text("log_level: debug\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.log_level == "DEBUG"
    assert settings.tenants_dir == tmp_path.resolve() / "config" / "tenants"


def test_environment_overrides_database_url(tmp_path, monkeypatch):
    path = write(tmp_path, "database_url: sqlite:///from-file.db\n")
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", "postgresql+psycopg://u@db/connector")
    assert load_settings(path).database_url == "postgresql+psycopg://u@db/connector"


def test_environment_overrides_one_nested_key_and_keeps_the_others(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        """\
    schedule:
      refresh_minutes: 15
      outbox_seconds: 10
    """,
    )
    monkeypatch.setenv("CONNECTOR_SCHEDULE__REFRESH_MINUTES", "5")
    settings = load_settings(path)
    assert settings.schedule.refresh_minutes == 5
    assert settings.schedule.outbox_seconds == 10


def test_relative_paths_resolve_against_the_settings_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(
        tmp_path,
        """\
    database_url: sqlite:///data/connector.db
    tenants_dir: tenants
    output_dir: ../out
    secrets_dir: secrets
    """,
    )
    settings = load_settings(path)
    etc = (tmp_path / "etc").resolve()
    assert settings.database_url == f"sqlite:///{etc / 'data' / 'connector.db'}"
    assert settings.tenants_dir == etc / "tenants"
    assert settings.output_dir == tmp_path.resolve() / "out"
    assert settings.secrets_dir == etc / "secrets"


def test_relative_path_from_the_environment_resolves_against_the_cwd(tmp_path, monkeypatch):
    path = write(tmp_path, "tenants_dir: tenants\n")
    (tmp_path / "run").mkdir()
    monkeypatch.chdir(tmp_path / "run")
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", "sqlite:///here.db")
    settings = load_settings(path)
    assert settings.database_url == f"sqlite:///{(tmp_path / 'run').resolve() / 'here.db'}"
    assert settings.tenants_dir == (tmp_path / "etc").resolve() / "tenants"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:////var/lib/connector.db",
        "postgresql+psycopg://u@db/connector",
    ],
)
def test_urls_that_are_not_relative_files_are_kept(url):
    assert resolve_sqlite_url(url, Path("/etc/connector")) == url


def test_relative_sqlite_url_keeps_its_driver_and_query():
    assert resolve_sqlite_url("sqlite+pysqlite:///c.db?timeout=5", Path("/srv/x")) == (
        "sqlite+pysqlite:////srv/x/c.db?timeout=5"
    )


def test_file_errors_name_file_line_and_key(tmp_path):
    path = write(
        tmp_path,
        """\
    log_level: INFO
    schedule:
      refresh_minutes: often
    api:
      prot: 8080
    """,
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert [(i.file, i.line, i.key) for i in caught.value.issues] == [
        (str(path), 3, "schedule.refresh_minutes"),
        (str(path), 5, "api.prot"),
    ]
    assert "whole number" in caught.value.issues[0].message
    assert "did you mean 'port'" in caught.value.issues[1].message


def test_environment_errors_name_the_variable(tmp_path, monkeypatch):
    path = write(tmp_path, "api:\n  port: 8080\n")
    monkeypatch.setenv("CONNECTOR_API__PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    [issue] = caught.value.issues
    assert (issue.file, issue.line, issue.key) == ("<environment>", None, "CONNECTOR_API__PORT")


def test_duplicate_keys_and_syntax_errors_in_the_settings_file(tmp_path):
    path = write(tmp_path, "log_level: INFO\nlog_level: DEBUG\n")
    with pytest.raises(ConfigError, match=r":2: log_level: duplicate key"):
        load_settings(path)
    path.write_text("api: {port: 8080\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        load_settings(path)


def test_missing_settings_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")
