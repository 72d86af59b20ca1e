"""Exported files stay inside ``--output`` and are readable by their owner alone
(issue 19, defects 2 and 7)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from connector.config.tenant import Customer, TenantConfig
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.export import export
from connector.safe_paths import UnsafePathError, path_under, safe_name
from connector.storage import models as m
from tests.pipeline.test_reconcile import AFTER_CLOSE, OCTOBER

ESCAPING = "../../../../../tmp/x/ESCAPED"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def draft_numbered(runtime, number: str) -> str:
    ingest(runtime, "acme", "aws")
    report = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001"], today=AFTER_CLOSE)
    [statement_id] = [s.id for s in report.generated]
    with runtime.db.transaction() as session:
        session.get(m.Statement, statement_id).number = number
    return statement_id


def test_export_keeps_a_climbing_name_inside_the_output_folder(runtime, tmp_path, umask_022):
    # Invoice numbers, customer ids and provider keys come from tenant files and billing
    # data; one holding "../" wrote statements outside --output and made the folders.
    statement_id = draft_numbered(runtime, "../../escaped/ESCAPED")
    output = tmp_path / "a" / "b" / "out"
    written = export(runtime, "acme", [statement_id], ["html", "pdf"], output)
    assert [p.parent for p in written] == [output.resolve()] * 2
    assert all("ESCAPED" in p.name and "%2F" in p.name for p in written)
    assert not (tmp_path / "a" / "escaped").exists()
    assert not (tmp_path / "escaped").exists()


def test_exported_files_are_private_under_umask_022(runtime, tmp_path, umask_022):
    statement_id = draft_numbered(runtime, "INV-0001")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    output = shared / "new" / "statements"
    written = export(runtime, "acme", [statement_id], ["html", "csv", "pdf"], output)
    assert [mode(p) for p in written] == [0o600] * 3
    assert mode(output) == 0o700
    assert mode(output.parent) == 0o700
    assert mode(shared) == 0o755  # an existing folder keeps its mode


def test_builtin_file_names_are_unchanged():
    assert safe_name("aws") == "aws"
    assert safe_name("INV-0042") == "INV-0042"
    assert safe_name("1001") == "1001"


def test_safe_name_encodes_separators_and_leading_dots():
    assert safe_name(ESCAPING) == "%2E.%2F..%2F..%2F..%2F..%2Ftmp%2Fx%2FESCAPED"
    assert safe_name("a\\b") == "a%5Cb"
    assert safe_name("..") == "%2E."
    assert safe_name("50%") != safe_name("50%25")
    assert "/" not in safe_name("ü/é") and safe_name("") == "_"


def test_path_under_refuses_escapes(tmp_path):
    assert path_under(tmp_path, "x.pdf") == tmp_path.resolve() / "x.pdf"
    for parts in (("..", "x"), ("/etc/passwd",), ("a/../../x",), ()):
        with pytest.raises(UnsafePathError, match="outside"):
            path_under(tmp_path, *parts)
    (tmp_path / "link").symlink_to("/tmp")
    with pytest.raises(UnsafePathError):
        path_under(tmp_path, "link", "x")


@pytest.mark.parametrize("customer_id", [ESCAPING, "a/b", "a\\b", "..", "x..y", ".hidden", "a b"])
def test_tenant_file_refuses_customer_ids_unsafe_in_file_names(customer_id):
    with pytest.raises(ValidationError, match="letters, digits, '.', '_' and '-'"):
        Customer(id=customer_id, name="Escaper", invoice_currency="USD")


def test_tenant_file_refuses_provider_keys_unsafe_in_file_names():
    with pytest.raises(ValidationError, match="provider key '../aws' is not allowed"):
        TenantConfig.model_validate(
            {
                "tenant": "acme",
                "profile": {"name": "A"},
                "providers": {"../aws": {}},
                "erp": {"sink": "csv"},
            }
        )


def test_schema_states_the_customer_id_character_set():
    schema = TenantConfig.model_json_schema()
    assert "letters, digits" in schema["$defs"]["Customer"]["properties"]["id"]["description"]
