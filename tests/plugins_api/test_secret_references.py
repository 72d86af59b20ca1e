"""Secret references are ``{secret_env: NAME}`` and ``{secret_file: PATH}``: a provider's own
setting spelt ``{file: x.csv}`` is a setting, handed to the plugin untouched, and a
reference spelt the old way where a secret was surely meant is refused, naming the file,
the line, the key and the new spelling."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

from connector.config import load_tenant
from connector.config.references import masked_references, resolve_references
from connector.masking import tenant_secrets
from tests.config.test_tenant_config import BASE, issues_of, write, xero_lookup


class UsageFileSettings(BaseModel):
    """A provider whose settings take a mapping with a ``file`` key, as any plugin may."""

    model_config = ConfigDict(extra="forbid")
    source: dict[str, str]
    api_key: str | None = None


def usage_lookup(kind, name):  # type: ignore[no-untyped-def]
    return UsageFileSettings if kind == "provider" else None


def tenant_text(provider_settings: str) -> str:
    return BASE.replace("  aws: {}", f"  aws:\n    settings:\n{provider_settings}")


def test_a_provider_setting_with_a_file_key_reaches_the_provider_untouched(tmp_path: Path):
    (tmp_path / "x.csv").write_text("not a secret, the provider's own data file\n")
    path = write(tmp_path, tenant_text("      source: {file: x.csv}\n"))
    tenant = load_tenant(path, plugin_settings_model=usage_lookup)
    settings = tenant.providers["aws"].settings
    # What ingest hands the provider (connector.pipeline.ingest: resolve_references).
    assert resolve_references(settings, tenant.base_dir) == {"source": {"file": "x.csv"}}
    assert masked_references(settings) == {"source": {"file": "x.csv"}}
    assert tenant_secrets(tenant) == []  # nothing of it is masked in logs either


def test_an_env_key_is_a_setting_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("sandbox", "would-be-secret")
    assert resolve_references({"api": {"env": "sandbox"}}, tmp_path) == {"api": {"env": "sandbox"}}


def test_references_resolve_from_the_environment_and_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key").write_text("file-secret\n")
    monkeypatch.setenv("ACME_KEY", "env-secret")
    text = tenant_text(
        "      source: {file: x.csv}\n"
        "      api_key: {secret_env: ACME_KEY}\n"
        "      nested: [{password: {secret_file: secrets/key}}]\n"
    )
    tenant = load_tenant(write(tmp_path, text))
    assert resolve_references(tenant.providers["aws"].settings, tenant.base_dir) == {
        "source": {"file": "x.csv"},
        "api_key": "env-secret",
        "nested": [{"password": "file-secret"}],
    }
    assert sorted(tenant_secrets(tenant)) == ["env-secret", "file-secret"]


def test_the_old_spelling_under_a_secret_key_is_refused_with_the_new_one(tmp_path: Path):
    text = tenant_text("      source: {file: x.csv}\n      api_key: {env: ACME_KEY}\n")
    issues = issues_of(write(tmp_path, text))
    assert [(i.file, i.line, i.key, i.message) for i in issues] == [
        (
            str(tmp_path / "tenant.yaml"),
            8,
            "providers.aws.settings.api_key",
            "{env: ACME_KEY} is no longer a secret reference: write {secret_env: ACME_KEY} "
            "(the old spelling is passed to the plugin as a plain mapping)",
        )
    ]


def test_the_old_spelling_where_the_plugin_wants_text_is_refused_with_the_new_one(
    tmp_path: Path,
):
    """Xero's client id is not named like a secret, but its model wants text: the model's
    "not a string" gives way to the new spelling."""
    text = BASE.replace(
        "sink: csv",
        "sink: xero\n  settings:\n    client_id: {env: XERO_ID}\n"
        "    client_secret: {file: secrets/xero}",
    )
    issues = issues_of(write(tmp_path, text), plugin_settings_model=xero_lookup)
    assert [(i.line, i.key, i.message.split(":")[0]) for i in issues] == [
        (9, "erp.settings.client_id", "{env"),
        (10, "erp.settings.client_secret", "{file"),
    ]
    assert "write {secret_file: secrets/xero}" in issues[1].message


def test_the_new_spelling_passes_check_config_with_no_variable_set(tmp_path: Path):
    text = BASE.replace(
        "sink: csv",
        "sink: xero\n  settings:\n    client_id: {secret_env: UNSET_XERO_ID}\n"
        "    client_secret: {secret_file: secrets/missing}",
    )
    tenant = load_tenant(write(tmp_path, text), plugin_settings_model=xero_lookup)
    assert tenant.erp.settings["client_id"] == {"secret_env": "UNSET_XERO_ID"}
